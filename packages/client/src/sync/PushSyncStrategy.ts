import { type ChangeResult, LIMITS } from '@ferry/protocol';
import { type ConflictResolverLike, resolveConflicts } from '../conflicts/resolveConflicts.js';
import { SyncError } from '../errors.js';
import type { ChangeTracker } from '../tracking/ChangeTracker.js';
import type { SyncTransport } from '../transport/RemoteAPI.js';
import { settled } from '../util/settled.js';
import { yieldToEventLoop } from '../util/yieldToEventLoop.js';
import { type DeadLettered, type OutboxBatch, OutboxBatcher } from './OutboxBatcher.js';
import { settleBatch } from './settlePush.js';

/** What happened to one pushed change. */
export interface PushChangeResult {
  changeId: string;
  success: boolean;
  status: ChangeResult['status'];
  error?: { code: string; message: string; retryable: boolean };
}

/** Summary of a push: counts per outcome, and each change's result. */
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
  /**
   * Most changes per request (the server accepts at most {@link LIMITS.maxChangesPerPush}); a
   * request is also cut to the server's body limit.
   */
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

/**
 * Turns of the event loop given to a request before the previous batch is settled: enough for a
 * new connection's connect and the body's write (see {@link yieldToEventLoop}).
 */
const REQUEST_TURNS = 3;

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
 *
 * Requests are cut to the server's limits, and a request it refuses for its content is split
 * or its lone change dead-lettered ({@link OutboxBatcher}).
 */
export class PushSyncStrategy {
  readonly #api: SyncTransport;
  readonly #tracker: ChangeTracker;
  readonly #resolver: ConflictResolverLike;
  readonly #batcher: OutboxBatcher;
  readonly #now: () => number;

  constructor(api: SyncTransport, changeTracker: ChangeTracker, options: PushSyncOptions = {}) {
    this.#api = api;
    this.#tracker = changeTracker;
    this.#resolver = options.conflictResolver ?? SERVER_WINS;
    const batchSize = options.batchSize ?? 100;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > LIMITS.maxChangesPerPush) {
      throw new SyncError('VALIDATION_ERROR', `batchSize must be an integer from 1 to ${LIMITS.maxChangesPerPush}`);
    }
    this.#now = options.now ?? Date.now;
    this.#batcher = new OutboxBatcher(changeTracker, batchSize, this.#now);
  }

  /** The tracker (and so the store) this strategy pushes from. */
  get changeTracker(): ChangeTracker {
    return this.#tracker;
  }

  /** The transport this strategy pushes over. */
  get remoteAPI(): SyncTransport {
    return this.#api;
  }

  /**
   * Pushes every pending change; rejects only when a whole request fails for a reason other
   * than its content (network, auth, server health). A request the server refuses for its
   * content (413, 400) is split, and a lone change it refuses is dead-lettered (see
   * {@link OutboxBatcher}), so no change can stop the rest of the outbox.
   */
  async pushChanges(options: PushCallOptions = {}): Promise<PushResult> {
    const store = this.#tracker.store;
    const summary: PushResult = { totalChanges: 0, successful: 0, failed: 0, conflicts: 0, results: [] };
    const total = await store.read((tx) => tx.countPending(false));
    const resolver = options.conflictResolver ?? this.#resolver;
    const batcher = this.#batcher;
    let processed = 0;
    // First change of the batch with the server, reported until the next batch goes out.
    let current: string | undefined;
    const report = (inFlight: boolean) =>
      options.onProgress?.({
        processed,
        total: Math.max(total, processed),
        ...(inFlight && current ? { currentItem: current } : {}),
      });
    const count = (dead: DeadLettered[]) => {
      for (const { change, error } of dead) {
        summary.results.push({ changeId: change.id, success: false, status: 'rejected', error });
        summary.failed++;
        summary.totalChanges++;
        processed++;
      }
    };
    // Batches are read by outbox position, so a change that failed retryably in this run (it
    // stays in the outbox) is not re-sent until the next sync, and a change a resolution
    // re-queues comes later in the same run.
    const readBatch = async (after: number, maxCount?: number) => {
      const { batch, dead } = await batcher.next(after, maxCount);
      count(dead);
      return batch;
    };
    const send = (batch: OutboxBatch) => {
      current = label(batch.changes[0]);
      options.onProgress?.({
        processed,
        total: Math.max(total, processed + batch.changes.length),
        ...(current ? { currentItem: current } : {}),
      });
      return settled(
        this.#api.push(
          { clientId: this.#tracker.clientId, changes: batch.changes },
          options.signal ? { signal: options.signal } : {},
        ),
      );
    };
    // Pipelined, one request in flight: while batch n is with the server the next batch is
    // read, and it is sent as soon as n's response is in; n is then settled locally (after
    // turns of the event loop that let the request out) while the server applies n+1. The
    // server still receives the batches one after the other, in outbox order. A failed request
    // surfaces only after the batch before it is settled, so nothing the server acknowledged is
    // left unrecorded.
    let batch = await readBatch(0);
    let inFlight = batch.changes.length > 0 ? send(batch) : undefined;
    for (let round = 0; inFlight && round < 100_000; round++) {
      const following = await readBatch(batch.lastSeq);
      const outcome = await inFlight;
      if (!outcome.ok) {
        const verdict = batcher.onRequestFailed(outcome.error, batch);
        if (verdict === 'fail') throw outcome.error;
        if (verdict === 'split') {
          batch = await readBatch(batch.after, Math.ceil(batch.changes.length / 2));
        } else {
          count(await batcher.deadLetter(batch.changes, outcome.error));
          report(false);
          batch = await readBatch(batch.lastSeq);
        }
        inFlight = batch.changes.length > 0 ? send(batch) : undefined;
        continue;
      }
      batcher.onRequestSucceeded();
      const response = outcome.value;
      const { changes } = batch;
      if (response.results.length !== changes.length) {
        throw new SyncError(
          'PROTOCOL_ERROR',
          `The server answered ${response.results.length} results for ${changes.length} changes`,
        );
      }
      inFlight = following.changes.length > 0 ? send(following) : undefined;
      // Let the request leave before settling: a local transaction on a synchronous driver holds
      // the event loop, and the server would only get n+1 once n was settled, idle meanwhile.
      if (inFlight) await yieldToEventLoop(REQUEST_TURNS);
      const conflicts = await settleBatch(this.#tracker, changes, response.results, summary, this.#now);
      // A conflict on one change concerns every later pending change of that entity: the
      // resolution replaces them all (changes of it already sent come back as conflicts or
      // duplicates and settle against the resolved state).
      await resolveConflicts(store, this.#tracker, resolver, conflicts);
      processed += changes.length;
      summary.totalChanges += changes.length;
      report(inFlight !== undefined);
      batch = following;
      if (!inFlight) {
        // A resolution may have queued its change after the batch read above: it goes in this run.
        batch = await readBatch(batch.lastSeq);
        if (batch.changes.length > 0) inFlight = send(batch);
      }
    }
    return summary;
  }

  /**
   * The network works (a pull went through) after this strategy's last push was cut off: a
   * lone large change cut off again and again is dead-lettered (see {@link OutboxBatcher}).
   * Resolves to the number of changes dead-lettered.
   */
  async confirmNetworkWorks(): Promise<number> {
    return (await this.#batcher.confirmNetworkWorks()).length;
  }
}

function label(change: { entityType: string; entityId: string } | undefined): string | undefined {
  return change ? `${change.entityType}/${change.entityId}` : undefined;
}
