import type { Change } from '@ferry/protocol';
import type { SyncError } from '../errors.js';
import { raceAbort, throwIfAborted } from '../retry/abort.js';
import { SyncErrorHandler } from '../retry/SyncErrorHandler.js';
import { defaultSleep, type Sleep } from '../retry/sleep.js';
import { stripOutbox } from '../store/StoreTx.js';
import type { BatchSyncResponse, RemoteAPI } from '../transport/RemoteAPI.js';
import { withoutUndefined } from '../util/withoutUndefined.js';
import {
  batchResult,
  chunk,
  failuresOf,
  hasMarkAsSynced,
  type SyncedMarker,
  summarize,
  validateOptions,
} from './batchResults.js';
import {
  type BatchProgress,
  type BatchResult,
  type BatchSyncConfig,
  type BatchSyncOptions,
  type BatchSyncResult,
  DEFAULT_BATCH_SYNC_OPTIONS,
} from './batchSyncTypes.js';

/**
 * Pushes many changes in batches, a few batches at a time, and retries only what failed.
 *
 * A batch call that throws fails all its changes with the categorised error; a response's
 * `failed` list fails only those changes. After the first pass, changes that failed with a
 * RETRYABLE error are re-batched and re-sent, after the error handler's backoff, for up to
 * `maxRetries` rounds. Non-retryable failures are reported at once and never re-sent, so one
 * poison change never blocks the others.
 *
 * If `localStore` has `markAsSynced(changeId)`, it is called for each change the server
 * accepted, and for no other.
 *
 * @example
 * const batchSync = new BatchSync(api, changeTracker, { batchSize: 100, parallelBatches: 2 });
 * const result = await batchSync.syncInBatches(await changeTracker.getPendingChanges(), (p) =>
 *   console.log(`${p.percentage.toFixed(0)} %`),
 * );
 * for (const { changeId, error } of result.failedChanges) console.warn(changeId, error.code);
 */
export class BatchSync {
  readonly #api: Pick<RemoteAPI, 'batchSync'>;
  readonly #marker: SyncedMarker | undefined;
  readonly #options: BatchSyncOptions;
  readonly #errorHandler: SyncErrorHandler;
  readonly #sleep: Sleep;
  readonly #signal: AbortSignal | undefined;

  constructor(api: Pick<RemoteAPI, 'batchSync'>, localStore?: unknown, options: BatchSyncConfig = {}) {
    const { errorHandler, sleep, signal, ...policy } = options;
    this.#api = api;
    this.#marker = hasMarkAsSynced(localStore) ? localStore : undefined;
    this.#options = { ...DEFAULT_BATCH_SYNC_OPTIONS, ...withoutUndefined(policy) };
    validateOptions(this.#options);
    this.#errorHandler = errorHandler ?? new SyncErrorHandler();
    this.#sleep = sleep ?? defaultSleep;
    this.#signal = signal;
  }

  /** Sends `changes` in batches; resolves with what succeeded and what failed. */
  async syncInBatches(changes: Change[], onProgress?: (progress: BatchProgress) => void): Promise<BatchSyncResult> {
    const signal = this.#signal;
    throwIfAborted(signal);
    const { batchSize, retryFailedBatches, maxRetries } = this.#options;
    const lastRound = retryFailedBatches ? maxRetries : 0;

    // A change id is its idempotency key: sending one twice in a sync is pointless.
    const byId = new Map<string, Change>();
    // Outbox entries (what `getPendingChanges()` gives) carry local bookkeeping the server refuses.
    for (const change of changes) if (!byId.has(change.id)) byId.set(change.id, stripOutbox(change));

    const succeeded = new Set<string>();
    // The latest error of every change that has not succeeded (yet).
    const failures = new Map<string, SyncError>();
    const results: BatchResult[] = [];
    const progress: BatchProgress = {
      totalBatches: 0,
      processedBatches: 0,
      totalChanges: byId.size,
      processedChanges: 0,
      percentage: byId.size === 0 ? 100 : 0,
    };
    const report = (isLastRound: boolean) => {
      // A retryable failure with a round still to go is not processed yet.
      let settledFailures = 0;
      for (const error of failures.values()) if (isLastRound || !error.retryable) settledFailures++;
      progress.processedChanges = succeeded.size + settledFailures;
      if (progress.totalChanges > 0) progress.percentage = (progress.processedChanges / progress.totalChanges) * 100;
      onProgress?.({ ...progress });
    };

    let pending = [...byId.values()];
    if (pending.length === 0) report(true);
    for (let round = 0; pending.length > 0; round++) {
      if (round > 0) {
        await raceAbort(this.#sleep(this.#roundDelay(round, pending, failures), signal), signal);
        for (const change of pending) failures.delete(change.id);
      }
      const isLastRound = round >= lastRound;
      const batches = chunk(pending, batchSize).map((batch, offset) => ({
        batch,
        batchIndex: results.length + offset,
      }));
      progress.totalBatches += batches.length;

      const roundResults = await this.#runPool(batches, round, (result) => {
        const failed = new Set(result.failedChanges.map((failure) => failure.changeId));
        for (const changeId of result.changeIds) if (!failed.has(changeId)) succeeded.add(changeId);
        for (const { changeId, error } of result.failedChanges) failures.set(changeId, error);
        progress.processedBatches++;
        report(isLastRound);
      });
      results.push(...roundResults);

      pending = [];
      if (!isLastRound) {
        // Input order, so a retry sends the changes of one entity in the order they were made.
        for (const [changeId, change] of byId) if (failures.get(changeId)?.retryable) pending.push(change);
      }
    }

    return summarize(results, succeeded, failures, byId);
  }

  /** Backoff before a retry round; a server's Retry-After (the longest one asked) wins. */
  #roundDelay(round: number, pending: Change[], failures: Map<string, SyncError>): number {
    let longest: SyncError | undefined;
    for (const change of pending) {
      const error = failures.get(change.id);
      if (error?.retryAfterMs !== undefined && (longest?.retryAfterMs ?? -1) < error.retryAfterMs) longest = error;
    }
    return this.#errorHandler.calculateDelay(round, longest);
  }

  /**
   * Runs batches with at most `parallelBatches` in flight: a worker pool, so one slow batch
   * does not hold back the others the way fixed groups would.
   */
  async #runPool(
    batches: Array<{ batch: Change[]; batchIndex: number }>,
    round: number,
    onResult: (result: BatchResult) => void,
  ): Promise<BatchResult[]> {
    const signal = this.#signal;
    const results: BatchResult[] = [];
    let next = 0;
    let fatal: { error: unknown } | undefined;

    const worker = async () => {
      while (next < batches.length && !fatal && !signal?.aborted) {
        const entry = batches[next++]!;
        try {
          const result = await this.#processBatch(entry.batch, entry.batchIndex, round);
          // The outbox learns first: progress must never show a change as done that a crash would re-send.
          await this.#markSynced(result);
          results.push(result);
          onResult(result);
        } catch (error) {
          // A local failure (markAsSynced, onProgress) or an abort: stop starting batches.
          fatal ??= { error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#options.parallelBatches, batches.length) }, worker));

    if (fatal) throw fatal.error;
    // Workers leave batches unstarted only when aborted; a sync that finished before the abort stands.
    if (results.length < batches.length) throwIfAborted(signal);
    return results.sort((a, b) => a.batchIndex - b.batchIndex);
  }

  async #processBatch(batch: Change[], batchIndex: number, round: number): Promise<BatchResult> {
    const changeIds = batch.map((change) => change.id);
    let response: BatchSyncResponse;
    try {
      // Options only when there is something in them: a transport is a plain function type.
      response = await (this.#signal
        ? this.#api.batchSync(batch, { signal: this.#signal })
        : this.#api.batchSync(batch));
    } catch (caught) {
      throwIfAborted(this.#signal);
      const error = this.#errorHandler.categorizeError(caught);
      return batchResult(
        batchIndex,
        round,
        changeIds,
        changeIds.map((changeId) => ({ changeId, error })),
      );
    }
    return batchResult(batchIndex, round, changeIds, failuresOf(response, changeIds));
  }

  async #markSynced(result: BatchResult): Promise<void> {
    if (!this.#marker) return;
    const failed = new Set(result.failedChanges.map((failure) => failure.changeId));
    for (const changeId of result.changeIds) {
      if (!failed.has(changeId)) await this.#marker.markAsSynced(changeId);
    }
  }
}
