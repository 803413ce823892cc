import type { Change } from '@ferry/protocol';
import { SyncError, SyncErrorCode } from '../errors.js';
import { raceAbort, throwIfAborted } from '../retry/abort.js';
import { fromWireError } from '../retry/fromWireError.js';
import { SyncErrorHandler } from '../retry/SyncErrorHandler.js';
import { defaultSleep, type Sleep } from '../retry/sleep.js';
import { stripOutbox } from '../store/StoreTx.js';
import type { BatchSyncResponse, RemoteAPI } from '../transport/RemoteAPI.js';

/** Batching policy of a {@link BatchSync}. */
export interface BatchSyncOptions {
  /** Changes per `batchSync` call. */
  batchSize: number;
  /** Most `batchSync` calls in flight at once. */
  parallelBatches: number;
  /** Re-send changes that failed with a retryable error (and only those). */
  retryFailedBatches: boolean;
  /** Retry rounds after the first pass. */
  maxRetries: number;
}

/** Defaults of {@link BatchSyncOptions} (the seed's). */
export const DEFAULT_BATCH_SYNC_OPTIONS: Readonly<BatchSyncOptions> = {
  batchSize: 50,
  parallelBatches: 3,
  retryFailedBatches: true,
  maxRetries: 3,
};

/** Constructor options of a {@link BatchSync}: the policy plus its collaborators. */
export interface BatchSyncConfig extends Partial<BatchSyncOptions> {
  /** Categorises thrown errors and computes the backoff between retry rounds. */
  errorHandler?: SyncErrorHandler;
  /** Waits between retry rounds (tests pass one that returns at once). */
  sleep?: Sleep;
  /** Stops the sync: no new batch starts, in-flight calls are aborted, the call rejects. */
  signal?: AbortSignal;
}

/** Progress of one {@link BatchSync.syncInBatches} call, reported after every batch. */
export interface BatchProgress {
  /** Batch calls planned so far: the first pass, plus each retry round once it is planned. */
  totalBatches: number;
  /** Batch calls finished. */
  processedBatches: number;
  totalChanges: number;
  /** Changes whose outcome is final: succeeded, or failed for good. */
  processedChanges: number;
  /** `processedChanges / totalChanges` in percent; 100 for an empty list. */
  percentage: number;
}

/** A change that failed, and why. */
export interface FailedChange {
  changeId: string;
  error: SyncError;
}

/** The outcome of one `batchSync` call. */
export interface BatchResult {
  /** Position among all calls of this sync, first pass and retries alike. */
  batchIndex: number;
  /** 0 for the first pass, n for the n-th retry round. */
  round: number;
  /** The changes this call carried. */
  changeIds: string[];
  /** True when every change of the call succeeded. */
  success: boolean;
  /** Changes of the call that succeeded. */
  processedCount: number;
  failedChanges: FailedChange[];
}

/**
 * The outcome of {@link BatchSync.syncInBatches}. Every input change ends up in exactly one of
 * `succeeded` and `failedChanges`.
 */
export interface BatchSyncResult {
  /** `batchSync` calls made, retries included (= `results.length`). */
  totalBatches: number;
  successfulBatches: number;
  failedBatches: number;
  /** Changes that succeeded (= `succeeded.length`). */
  totalProcessed: number;
  /** Changes that failed for good (= `failedChanges.length`). */
  totalFailed: number;
  /** Ids of the changes that succeeded, in input order. */
  succeeded: string[];
  /** Changes that failed for good, in input order, each with its last error. */
  failedChanges: FailedChange[];
  /** Every call, in `batchIndex` order. */
  results: BatchResult[];
}

/** A local store that can take a change off the outbox. */
interface SyncedMarker {
  markAsSynced(changeId: string): unknown;
}

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

/** The failures a response reports for a batch; an unreadable response fails the whole batch. */
function failuresOf(response: BatchSyncResponse, changeIds: string[]): FailedChange[] {
  if (typeof response !== 'object' || response === null || !Array.isArray(response.failed)) {
    const error = new SyncError(
      SyncErrorCode.UNKNOWN_ERROR,
      'batchSync returned no `failed` list; no change of the batch is known to be synced',
      { cause: response },
    );
    return changeIds.map((changeId) => ({ changeId, error }));
  }
  const inBatch = new Set(changeIds);
  const failures = new Map<string, FailedChange>();
  for (const entry of response.failed) {
    // Ids the batch did not carry are the server's confusion, not ours to report.
    if (typeof entry?.changeId !== 'string' || !inBatch.has(entry.changeId)) continue;
    failures.set(entry.changeId, { changeId: entry.changeId, error: fromWireError(entry.error, entry.changeId) });
  }
  if (response.success === false && response.failed.length === 0) {
    // "Not a success" with no culprit named: nothing is confirmed, so nothing may be marked synced.
    const error = new SyncError(SyncErrorCode.UNKNOWN_ERROR, 'batchSync reported failure without naming a change');
    return changeIds.map((changeId) => ({ changeId, error }));
  }
  return changeIds.flatMap((changeId) => {
    const failure = failures.get(changeId);
    return failure ? [failure] : [];
  });
}

function batchResult(
  batchIndex: number,
  round: number,
  changeIds: string[],
  failedChanges: FailedChange[],
): BatchResult {
  return {
    batchIndex,
    round,
    changeIds,
    success: failedChanges.length === 0,
    processedCount: changeIds.length - failedChanges.length,
    failedChanges,
  };
}

function summarize(
  results: BatchResult[],
  succeeded: Set<string>,
  failures: Map<string, SyncError>,
  byId: Map<string, Change>,
): BatchSyncResult {
  const ids = [...byId.keys()];
  const failedChanges = ids.flatMap((changeId) => {
    const error = failures.get(changeId);
    return error ? [{ changeId, error }] : [];
  });
  const succeededIds = ids.filter((changeId) => succeeded.has(changeId) && !failures.has(changeId));
  return {
    totalBatches: results.length,
    successfulBatches: results.filter((result) => result.success).length,
    failedBatches: results.filter((result) => !result.success).length,
    totalProcessed: succeededIds.length,
    totalFailed: failedChanges.length,
    succeeded: succeededIds,
    failedChanges,
    results,
  };
}

function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

function hasMarkAsSynced(store: unknown): store is SyncedMarker {
  return typeof store === 'object' && store !== null && typeof (store as SyncedMarker).markAsSynced === 'function';
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validateOptions(options: BatchSyncOptions): void {
  const problems: string[] = [];
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) problems.push('batchSize must be an integer >= 1');
  if (!Number.isInteger(options.parallelBatches) || options.parallelBatches < 1) {
    problems.push('parallelBatches must be an integer >= 1');
  }
  if (!Number.isInteger(options.maxRetries) || options.maxRetries < 0)
    problems.push('maxRetries must be an integer >= 0');
  if (problems.length > 0) throw new SyncError('VALIDATION_ERROR', `Invalid BatchSync options: ${problems.join('; ')}`);
}
