import type { SyncError } from '../errors.js';
import type { OutboxEntry } from '../store/types.js';
import type { PullSyncStrategy } from './PullSyncStrategy.js';
import type { PushResult, PushSyncStrategy } from './PushSyncStrategy.js';
import type { SyncProgressState, SyncResult } from './syncTypes.js';

/** What one cycle reports while it runs. */
export interface CycleHooks {
  signal: AbortSignal;
  onProgress(progress: SyncProgressState): void;
  /** Between the phases (the manager refreshes its pending count). */
  afterPush(): Promise<void>;
}

/**
 * One sync, read top to bottom: push the outbox, then pull from the saved cursor. Progress
 * goes `uploading` (per batch, with the first change of the batch as `currentItem`), then
 * `downloading` (per page). Rejects when a whole request fails; the caller records it.
 */
export async function runSyncCycle(
  push: PushSyncStrategy,
  pull: PullSyncStrategy,
  hooks: CycleHooks,
): Promise<SyncResult> {
  // push phase
  const pushResult = await push.pushChanges({
    signal: hooks.signal,
    onProgress: ({ processed, total, currentItem }) =>
      hooks.onProgress({
        phase: 'uploading',
        totalItems: total,
        processedItems: processed,
        ...(currentItem ? { currentItem } : {}),
      }),
  });
  await hooks.afterPush();

  // pull phase
  hooks.onProgress({ phase: 'downloading', totalItems: 0, processedItems: 0 });
  const pullResult = await pull.pullChanges({
    signal: hooks.signal,
    onProgress: ({ processed, total }) =>
      hooks.onProgress({ phase: 'downloading', totalItems: total, processedItems: processed }),
  });
  return { push: pushResult, pull: pullResult };
}

/** The push result of a request that failed as a whole: every change sent counts as failed. */
export function failedPush(error: SyncError, sent: readonly OutboxEntry[]): PushResult & { error: SyncError } {
  return {
    totalChanges: sent.length,
    successful: 0,
    failed: sent.length,
    conflicts: 0,
    results: sent.map((change) => ({
      changeId: change.id,
      success: false,
      status: 'rejected' as const,
      error: { code: error.code, message: error.message, retryable: error.retryable },
    })),
    error,
  };
}
