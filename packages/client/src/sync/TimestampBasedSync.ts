import { compareHlc, type RecordData, type ServerRecord } from '@ferry/protocol';
import { ConflictResolver } from '../conflicts/ConflictResolver.js';
import { stateFromRecord } from '../conflicts/stateFromRecord.js';
import type { LocalStore } from '../store/LocalStore.js';
import { ChangeTracker } from '../tracking/ChangeTracker.js';
import type { SyncTransport } from '../transport/RemoteAPI.js';
import { getOrCreateClientId } from './clientId.js';
import { storeEngine } from './storeEngine.js';

/**
 * An entity stamped with the write that produced it. The
 * order is `hlc`, a hybrid logical clock, never the wall-clock `updatedAt`: a device whose
 * clock runs ahead cannot win by it.
 */
export interface TimestampedEntity {
  id: string;
  data: RecordData | null;
  /** Stamp of the latest write: what orders two versions. */
  hlc: string;
  /** Wall-clock part of `hlc`, in ms (informational: never used to order writes). */
  updatedAt: number;
  /** Wall-clock ms of the delete, or null while the entity lives. */
  deletedAt: number | null;
}

/** A local and a server version of one entity that were both written since the last sync. */
export interface ConflictPair {
  local: TimestampedEntity;
  server: TimestampedEntity;
}

/** What {@link TimestampBasedSync.categorizeChanges} sorts changes into. */
export interface CategorizedChanges {
  toUpload: TimestampedEntity[];
  toDownload: TimestampedEntity[];
  conflicts: ConflictPair[];
}

/** Result of {@link TimestampBasedSync.sync}. */
export interface TimestampSyncResult {
  /** Changes the server took (applied or already had). */
  uploaded: number;
  /** Server records the pull applied. */
  downloaded: number;
  /** Conflicts settled, in the push's answers and in the pull. */
  conflictsResolved: number;
}

/** A server record as a {@link TimestampedEntity}. */
export function timestampedFromRecord(record: ServerRecord): TimestampedEntity {
  const { entityId, data, timestamp, deleted } = stateFromRecord(record);
  return { id: entityId, data, hlc: record.hlc, updatedAt: timestamp, deletedAt: deleted ? timestamp : null };
}

/**
 * Timestamp sync on the hybrid logical clock: changes
 * made on both sides since the last sync are settled last-write-wins by HLC, ties broken by
 * node id (part of the stamp), so every replica picks the same winner.
 *
 * `sync(entityType)` is one cycle of the store's one engine (push, then pull): the same
 * decisions, on the same vectors and clock, as every other sync of the store; the version
 * vectors confirm each conflict is a true concurrent edit before the HLC settles it.
 *
 * @example
 * const ts = new TimestampBasedSync(localStore, api, { changeTracker });
 * const { toUpload, toDownload, conflicts } = ts.categorizeChanges(localChanges, serverChanges);
 * await ts.sync('todos');
 */
export class TimestampBasedSync {
  readonly #api: SyncTransport;
  readonly #store: LocalStore;
  #tracker: ChangeTracker | undefined;
  readonly #resolver = new ConflictResolver('last-write-wins');

  /** Without a `changeTracker`, one is made on the device's client id (kept in the store). */
  constructor(localStore: LocalStore, api: SyncTransport, options: { changeTracker?: ChangeTracker } = {}) {
    this.#store = localStore;
    this.#api = api;
    this.#tracker = options.changeTracker;
  }

  async #getTracker(): Promise<ChangeTracker> {
    this.#tracker ??= ChangeTracker.of(this.#store, await getOrCreateClientId(this.#store));
    return this.#tracker;
  }

  /**
   * Sorts two sets of changes by entity id: only local → upload; only server → download;
   * both, with different stamps → a conflict (the same stamp is the same write seen twice).
   */
  categorizeChanges(
    localChanges: readonly TimestampedEntity[],
    serverChanges: readonly TimestampedEntity[],
  ): CategorizedChanges {
    const serverById = new Map(serverChanges.map((change) => [change.id, change]));
    const localIds = new Set(localChanges.map((change) => change.id));
    const result: CategorizedChanges = { toUpload: [], toDownload: [], conflicts: [] };
    for (const local of localChanges) {
      const server = serverById.get(local.id);
      if (!server) result.toUpload.push(local);
      else if (server.hlc !== local.hlc) result.conflicts.push({ local, server });
    }
    for (const server of serverChanges) if (!localIds.has(server.id)) result.toDownload.push(server);
    return result;
  }

  /** Which side of a conflict pair wins: the later stamp (last write wins). */
  resolveByTimestamp(conflict: ConflictPair): 'local' | 'server' {
    return compareHlc(conflict.local.hlc, conflict.server.hlc) > 0 ? 'local' : 'server';
  }

  /**
   * One full cycle of the store's one engine ({@link storeEngine}): pushes the outbox (a
   * conflict the server reports is settled last-write-wins by HLC), then pulls from the saved
   * cursor. With a SyncManager on the store the cycle is the manager's (its transport and
   * resolver). The counts are the whole cycle's; `entityType` is checked against the schema.
   */
  async sync(entityType: string): Promise<TimestampSyncResult> {
    this.#store.entitySchema(entityType);
    const { push, pull } = await storeEngine(this.#store, {
      remoteAPI: this.#api,
      changeTracker: await this.#getTracker(),
      conflictResolver: this.#resolver,
    }).run('full');
    return {
      uploaded: push.successful,
      downloaded: pull.successful,
      conflictsResolved: push.conflicts + pull.conflicts,
    };
  }
}
