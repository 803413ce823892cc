import type { Change } from '@ferry/protocol';
import { SyncError, SyncErrorCode } from '../errors.js';
import { fromWireError } from '../retry/fromWireError.js';
import type { BatchSyncResponse } from '../transport/RemoteAPI.js';
import type { BatchResult, BatchSyncOptions, BatchSyncResult, FailedChange } from './batchSyncTypes.js';

// The bookkeeping of BatchSync: reading a batch response, recording one call, summing up a sync.

/** A local store that can take a change off the outbox. */
export interface SyncedMarker {
  markAsSynced(changeId: string): unknown;
}

/** The failures a response reports for a batch; an unreadable response fails the whole batch. */
export function failuresOf(response: BatchSyncResponse, changeIds: string[]): FailedChange[] {
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

/** The outcome of one batch call, from the changes it carried and those that failed. */
export function batchResult(
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

/** The result of a whole sync: every input change either succeeded or failed for good. */
export function summarize(
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

/** `items` cut into consecutive slices of at most `size`. */
export function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** Whether the store given to BatchSync can take acknowledged changes off its outbox. */
export function hasMarkAsSynced(store: unknown): store is SyncedMarker {
  return typeof store === 'object' && store !== null && typeof (store as SyncedMarker).markAsSynced === 'function';
}

/** Refuses a policy that could never send anything, with every problem named. */
export function validateOptions(options: BatchSyncOptions): void {
  const problems: string[] = [];
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) problems.push('batchSize must be an integer >= 1');
  if (!Number.isInteger(options.parallelBatches) || options.parallelBatches < 1) {
    problems.push('parallelBatches must be an integer >= 1');
  }
  if (!Number.isInteger(options.maxRetries) || options.maxRetries < 0)
    problems.push('maxRetries must be an integer >= 0');
  if (problems.length > 0) throw new SyncError('VALIDATION_ERROR', `Invalid BatchSync options: ${problems.join('; ')}`);
}
