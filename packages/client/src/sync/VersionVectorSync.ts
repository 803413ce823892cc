import {
  compareVersions,
  incrementVector,
  mergeVersionVectors,
  type RecordData,
  type VersionComparison,
  type VersionVector,
} from '@ferry/protocol';
import type { ConflictResolverLike } from '../conflicts/resolveConflicts.js';
import type { LocalStore } from '../store/LocalStore.js';
import { ChangeTracker } from '../tracking/ChangeTracker.js';
import type { SyncTransport } from '../transport/RemoteAPI.js';
import { storeEngine } from './storeEngine.js';

/** An entity with its version vector. */
export interface VectorEntity {
  id: string;
  data: RecordData | null;
  versionVector: VersionVector;
}

/** Result of {@link VersionVectorSync.sync}. */
export interface VectorSyncResult {
  /** No pushed change was refused. */
  success: boolean;
  pushed: number;
  /** Server records applied by the pull. */
  pulled: number;
  /** Truly concurrent edits (in the push's answers and the pull), settled by the resolver. */
  conflicts: number;
}

/**
 * Version-vector sync, an adapter over the store's one engine:
 * the vectors are the ones the engine keeps for every entity, so a stale copy (`v2_newer`) is
 * adopted, never mistaken for a conflict, and a true concurrent edit (`concurrent`) always goes
 * to the resolver. `sync` is one cycle of the store's loop, never a second engine beside it.
 *
 * @example
 * const vv = new VersionVectorSync('device-a', localStore, api, { conflictResolver });
 * vv.compareVersions({ a: 2, b: 1 }, { a: 1, b: 2 }); // 'concurrent'
 * await vv.sync('todos');
 */
export class VersionVectorSync {
  readonly #clientId: string;
  readonly #store: LocalStore;
  readonly #api: SyncTransport;
  readonly #tracker: ChangeTracker;
  readonly #resolver: ConflictResolverLike | undefined;

  constructor(
    clientId: string,
    localStore: LocalStore,
    api: SyncTransport,
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
   * One full cycle of the store's one engine ({@link storeEngine}): pushes pending changes,
   * then pulls from the saved cursor, where every pulled record is compared with the local
   * copy by vector and adopted (a stale copy) or resolved (a true concurrent edit). With a
   * SyncManager on the store the cycle is the manager's (its transport and resolver); the
   * counts are the whole cycle's, `entityType` is checked against the schema.
   */
  async sync(entityType: string): Promise<VectorSyncResult> {
    this.#store.entitySchema(entityType);
    const { push, pull } = await storeEngine(this.#store, {
      remoteAPI: this.#api,
      changeTracker: this.#tracker,
      conflictResolver: this.#resolver,
    }).run('full');
    return {
      success: push.failed === 0,
      pushed: push.successful,
      pulled: pull.successful,
      conflicts: push.conflicts + pull.conflicts,
    };
  }
}
