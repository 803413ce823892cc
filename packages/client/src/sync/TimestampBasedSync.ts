import { compareHlc, decodeHlc, LIMITS, type RecordData, type ServerRecord } from '@ferry/protocol';
import { ConflictResolver } from '../conflicts/ConflictResolver.js';
import { applyServerRecord, type DetectedConflict } from '../conflicts/reconcile.js';
import { resolveConflicts } from '../conflicts/resolveConflicts.js';
import type { LocalStore } from '../store/LocalStore.js';
import { ChangeTracker } from '../tracking/ChangeTracker.js';
import type { RemoteAPI } from '../transport/RemoteAPI.js';
import { getOrCreateClientId } from './clientId.js';
import { PushSyncStrategy } from './PushSyncStrategy.js';

/**
 * An entity stamped with the write that produced it (the seed's `TimestampedEntity`). The
 * order is `hlc`, a hybrid logical clock, never the wall-clock `updatedAt`: a device whose
 * clock runs ahead cannot win by it.
 */
export interface TimestampedEntity {
  id: string;
  data: RecordData | null;
  /** Stamp of the latest write: what orders two versions. */
  hlc: string;
  /** Wall-clock part of `hlc`, in ms (the seed's field; informational). */
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

/** Result of {@link TimestampBasedSync.sync} (the seed's `SyncResult`). */
export interface TimestampSyncResult {
  uploaded: number;
  downloaded: number;
  conflictsResolved: number;
}

/** A server record as a {@link TimestampedEntity}. */
export function timestampedFromRecord(record: ServerRecord): TimestampedEntity {
  const at = decodeHlc(record.hlc).wallTime;
  return {
    id: record.entityId,
    data: record.deleted ? null : record.data,
    hlc: record.hlc,
    updatedAt: at,
    deletedAt: record.deleted ? at : null,
  };
}

/**
 * Timestamp sync (the seed's `TimestampBasedSync`) on the hybrid logical clock: changes
 * made on both sides since the last sync are settled last-write-wins by HLC, ties broken by
 * node id (part of the stamp), so every replica picks the same winner.
 *
 * `sync(entityType)` pages through that type's server changes from its own cursor, sorts
 * them against the pending local changes, applies downloads and settles conflicts
 * (the version vectors confirm each one is a true concurrent edit), then pushes the outbox.
 *
 * @example
 * const ts = new TimestampBasedSync(localStore, api, { changeTracker });
 * const { toUpload, toDownload, conflicts } = ts.categorizeChanges(localChanges, serverChanges);
 * await ts.sync('todos');
 */
export class TimestampBasedSync {
  readonly #api: RemoteAPI;
  readonly #store: LocalStore;
  #tracker: ChangeTracker | undefined;
  readonly #resolver = new ConflictResolver('last-write-wins');

  /** Without a `changeTracker`, one is made on the device's client id (kept in the store). */
  constructor(localStore: LocalStore, api: RemoteAPI, options: { changeTracker?: ChangeTracker } = {}) {
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

  /** Downloads, settles and uploads the changes of one entity type; see the class comment. */
  async sync(entityType: string): Promise<TimestampSyncResult> {
    const tracker = await this.#getTracker();
    const store = tracker.store;
    const cursorKey = `ferry:cursor:${entityType}`;
    const result: TimestampSyncResult = { uploaded: 0, downloaded: 0, conflictsResolved: 0 };
    let cursor = Number((await store.kv.getItem(cursorKey)) ?? 0);
    for (let page = 0; page < 1_000_000; page++) {
      const response = await this.#api.pull({ cursor, limit: LIMITS.defaultPullLimit, types: [entityType] });
      const local = await this.#localChanges(store, entityType);
      const sorted = this.categorizeChanges(local, response.changes.map(timestampedFromRecord));
      const detected: DetectedConflict[] = [];
      await store.write(async (tx) => {
        await tracker.restoreClock(tx);
        for (const record of response.changes) {
          const conflict = await applyServerRecord(tx, record, tracker.clock);
          if (conflict) detected.push(conflict);
        }
        await tx.setKv(cursorKey, String(response.cursor));
      });
      const outcomes = await resolveConflicts(store, tracker, this.#resolver, detected);
      result.downloaded += sorted.toDownload.length;
      result.conflictsResolved += outcomes.resolved;
      cursor = response.cursor;
      if (!response.hasMore) break;
    }
    const push = new PushSyncStrategy(this.#api, tracker, { conflictResolver: this.#resolver });
    result.uploaded = (await push.pushChanges()).successful;
    return result;
  }

  /** The pending local changes of a type, one per entity, as the entity stands now. */
  async #localChanges(store: LocalStore, entityType: string): Promise<TimestampedEntity[]> {
    return store.read(async (tx) => {
      const ids = new Set(
        (await tx.pendingChanges(-1)).filter((c) => c.entityType === entityType).map((c) => c.entityId),
      );
      const entities: TimestampedEntity[] = [];
      for (const id of ids) {
        const entity = await tx.getEntity(entityType, id);
        if (!entity) continue;
        const at = decodeHlc(entity.hlc).wallTime;
        entities.push({ id, data: entity.data, hlc: entity.hlc, updatedAt: at, deletedAt: entity.deleted ? at : null });
      }
      return entities;
    });
  }
}
