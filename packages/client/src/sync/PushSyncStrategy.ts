import { type ChangeResult, LIMITS } from '@ferry/protocol';
import { SyncError } from '../errors.js';
import { stripOutbox } from '../store/StoreTx.js';
import type { ChangeTracker } from '../tracking/ChangeTracker.js';
import type { RemoteAPI } from '../transport/RemoteAPI.js';
import { applyServerRecord, type DetectedConflict } from './reconcile.js';
import { type ConflictResolverLike, resolveConflicts } from './resolveConflicts.js';

/** What happened to one pushed change (the seed's `ChangeResult`). */
export interface PushChangeResult {
  changeId: string;
  success: boolean;
  status: ChangeResult['status'];
  error?: { code: string; message: string; retryable: boolean };
}

/** Summary of a push (the seed's `PushResult`, plus conflicts). */
export interface PushResult {
  totalChanges: number;
  successful: number;
  failed: number;
  conflicts: number;
  results: PushChangeResult[];
}

/** Options of a {@link PushSyncStrategy}. */
export interface PushSyncOptions {
  /** Resolves conflicts the server reports; without one the server's record wins. */
  conflictResolver?: ConflictResolverLike;
  /** Changes per request (the server accepts at most {@link LIMITS.maxChangesPerPush}). */
  batchSize?: number;
  /** Wall clock for dead-letter timestamps. */
  now?: () => number;
}

/** Per-call options of {@link PushSyncStrategy.pushChanges}. */
export interface PushCallOptions {
  signal?: AbortSignal;
  /** Overrides the strategy's resolver for this call. */
  conflictResolver?: ConflictResolverLike;
  onProgress?: (progress: { processed: number; total: number; currentItem?: string }) => void;
}

const SERVER_WINS: ConflictResolverLike = {
  resolve: async (conflict) => ({
    winner: 'server',
    resolvedData: conflict.serverVersion.data,
    deleted: conflict.serverVersion.deleted ?? false,
    strategy: 'server-wins',
  }),
};

/**
 * Push phase: sends the outbox in order, in batches, and settles each result in one local
 * transaction. A change leaves the outbox only when the server has applied it (or already
 * had it); a lost response means a re-send, which the server dedupes by change id.
 *
 *   applied / duplicate → removed from the outbox; the server's record folded in
 *   conflict            → resolved (after the transaction), maybe re-queued as one change
 *   rejected, final     → moved to dead letters, so it never blocks the queue
 *   rejected, retryable → stays, attempt counted; the push moves on
 */
export class PushSyncStrategy {
  readonly #api: RemoteAPI;
  readonly #tracker: ChangeTracker;
  readonly #resolver: ConflictResolverLike;
  readonly #batchSize: number;
  readonly #now: () => number;

  constructor(api: RemoteAPI, changeTracker: ChangeTracker, options: PushSyncOptions = {}) {
    this.#api = api;
    this.#tracker = changeTracker;
    this.#resolver = options.conflictResolver ?? SERVER_WINS;
    const batchSize = options.batchSize ?? 100;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > LIMITS.maxChangesPerPush) {
      throw new SyncError('VALIDATION_ERROR', `batchSize must be an integer from 1 to ${LIMITS.maxChangesPerPush}`);
    }
    this.#batchSize = batchSize;
    this.#now = options.now ?? Date.now;
  }

  /** Pushes every pending change; rejects only when a whole request fails (network, auth, ...). */
  async pushChanges(options: PushCallOptions = {}): Promise<PushResult> {
    const store = this.#tracker.store;
    const summary: PushResult = { totalChanges: 0, successful: 0, failed: 0, conflicts: 0, results: [] };
    const total = await store.read((tx) => tx.countPending(false));
    // Changes that failed retryably in this run are not re-sent until the next sync.
    const skip = new Set<string>();
    let processed = 0;
    for (let round = 0; round < 10_000; round++) {
      const batch = (await store.read((tx) => tx.pendingChanges(this.#batchSize + skip.size))).filter(
        (change) => !skip.has(change.id),
      );
      if (batch.length === 0) break;
      const changes = batch.slice(0, this.#batchSize).map(stripOutbox);
      options.onProgress?.({
        processed,
        total: Math.max(total, processed + changes.length),
        currentItem: label(changes[0]),
      });
      const response = await this.#api.push(
        { clientId: this.#tracker.clientId, changes },
        options.signal ? { signal: options.signal } : {},
      );
      if (response.results.length !== changes.length) {
        throw new SyncError(
          'PROTOCOL_ERROR',
          `The server answered ${response.results.length} results for ${changes.length} changes`,
        );
      }
      const conflicts: DetectedConflict[] = [];
      await store.write(async (tx) => {
        for (const [index, result] of response.results.entries()) {
          const change = changes[index]!;
          if (result.changeId !== change.id) {
            throw new SyncError('PROTOCOL_ERROR', `Result ${index} is for ${result.changeId}, expected ${change.id}`);
          }
          const entry: PushChangeResult = { changeId: change.id, success: false, status: result.status };
          if (result.status === 'applied' || result.status === 'duplicate') {
            await tx.removeChange(change.id);
            if (result.record) await applyServerRecord(tx, result.record, this.#tracker.clock);
            entry.success = true;
            summary.successful++;
          } else if (result.status === 'conflict' && result.record) {
            const conflict = await applyServerRecord(tx, result.record, this.#tracker.clock);
            if (conflict) conflicts.push(conflict);
            summary.conflicts++;
          } else {
            const error = result.error ?? {
              code: 'UNKNOWN_ERROR',
              message: 'Rejected without a reason',
              retryable: false,
            };
            entry.error = error;
            summary.failed++;
            if (error.retryable) {
              skip.add(change.id);
              await tx.recordAttempt(change.id, `${error.code}: ${error.message}`);
            } else {
              await tx.addDeadLetter(change, error, this.#now());
              await tx.removeChange(change.id);
            }
          }
          summary.results.push(entry);
        }
      });
      // A conflict on one change concerns every later pending change of that entity: the
      // resolution replaces them all, so nothing more of this batch is sent for it.
      await resolveConflicts(store, this.#tracker, options.conflictResolver ?? this.#resolver, conflicts);
      processed += changes.length;
      summary.totalChanges += changes.length;
      options.onProgress?.({ processed, total: Math.max(total, processed) });
    }
    return summary;
  }
}

function label(change: { entityType: string; entityId: string } | undefined): string | undefined {
  return change ? `${change.entityType}/${change.entityId}` : undefined;
}
