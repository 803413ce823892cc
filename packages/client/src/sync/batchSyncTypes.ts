import type { SyncError } from '../errors.js';
import type { SyncErrorHandler } from '../retry/SyncErrorHandler.js';
import type { Sleep } from '../retry/sleep.js';

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

/** Defaults of {@link BatchSyncOptions}: 50 per call, 3 calls at once, 3 retry rounds. */
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
