import {
  compareVersions,
  incrementVector,
  mergeVersionVectors,
  type RecordData,
  type VersionComparison,
  type VersionVector,
} from '@ferry/protocol';
import { applyServerRecord, type DetectedConflict } from '../conflicts/reconcile.js';
import { type ConflictResolverLike, resolveConflicts } from '../conflicts/resolveConflicts.js';
import type { LocalStore } from '../store/LocalStore.js';
import { ChangeTracker } from '../tracking/ChangeTracker.js';
import type { RemoteAPI } from '../transport/RemoteAPI.js';
import { PushSyncStrategy } from './PushSyncStrategy.js';

/** An entity with its version vector (the seed's `VersionedEntity`). */
export interface VectorEntity {
  id: string;
  data: RecordData | null;
  versionVector: VersionVector;
}

/** Result of {@link VersionVectorSync.sync}. */
export interface VectorSyncResult {
  success: boolean;
  pushed: number;
  /** Server records that were newer and adopted, or already equal. */
  pulled: number;
  /** Truly concurrent edits, settled by the resolver. */
  conflicts: number;
}

/**
 * Whole-type reconciliation by version vectors (the seed's `VersionVectorSync`), over the
 * vectors the engine keeps for every entity: a stale copy (`v2_newer`) is adopted, never
 * mistaken for a conflict; a true concurrent edit (`concurrent`) always goes to the resolver.
 *
 * @example
 * const vv = new VersionVectorSync('device-a', localStore, api, { conflictResolver });
 * vv.compareVersions({ a: 2, b: 1 }, { a: 1, b: 2 }); // 'concurrent'
 * await vv.sync('todos');
 */
export class VersionVectorSync {
  readonly #clientId: string;
  readonly #store: LocalStore;
  readonly #api: RemoteAPI;
  readonly #tracker: ChangeTracker;
  readonly #resolver: ConflictResolverLike | undefined;

  constructor(
    clientId: string,
    localStore: LocalStore,
    api: RemoteAPI,
    options: { changeTracker?: ChangeTracker; conflictResolver?: ConflictResolverLike } = {},
  ) {
    this.#clientId = clientId;
    this.#store = localStore;
    this.#api = api;
    this.#tracker = options.changeTracker ?? ChangeTracker.of(localStore, clientId);
    this.#resolver = options.conflictResolver;
  }

  /** A copy of `entity` with this client's counter advanced. */
  incrementVersion<T extends VectorEntity>(entity: T): T {
    return { ...entity, versionVector: incrementVector(entity.versionVector, this.#clientId) };
  }

  /** `equal`, `v1_newer`, `v2_newer`, or `concurrent` (a true conflict). */
  compareVersions(v1: VersionVector, v2: VersionVector): VersionComparison {
    return compareVersions(v1, v2);
  }

  /** The element-wise maximum: the least vector that has seen both. */
  mergeVersionVectors(v1: VersionVector, v2: VersionVector): VersionVector {
    return mergeVersionVectors(v1, v2);
  }

  /**
   * Pushes pending changes, then compares every server record of `entityType` with the local
   * copy by vector and adopts or resolves it. For small types: `getAll` is one request.
   */
  async sync(entityType: string): Promise<VectorSyncResult> {
    const push = new PushSyncStrategy(this.#api, this.#tracker, {
      ...(this.#resolver ? { conflictResolver: this.#resolver } : {}),
    });
    const pushed = await push.pushChanges();
    const records = await this.#api.getAll(entityType);
    const conflicts: DetectedConflict[] = [];
    await this.#store.write(async (tx) => {
      await this.#tracker.restoreClock(tx);
      for (const record of records) {
        const conflict = await applyServerRecord(tx, record, this.#tracker.clock);
        if (conflict) conflicts.push(conflict);
      }
    });
    if (conflicts.length > 0 && this.#resolver) {
      await resolveConflicts(this.#store, this.#tracker, this.#resolver, conflicts);
    }
    return {
      success: pushed.failed === 0,
      pushed: pushed.successful,
      pulled: records.length - conflicts.length,
      conflicts: conflicts.length + pushed.conflicts,
    };
  }
}
