import { type SyncError, SyncErrorCode } from '../errors.js';
import { categorizeError } from '../retry/categorizeError.js';
import type { OutboxEntry } from '../store/types.js';
import type { PullResult, PullSyncStrategy } from './PullSyncStrategy.js';
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
 *
 * A failed push does not skip the pull: the device keeps receiving others' changes while its
 * own cannot leave. That is safe for conflicts because the pull decides with version vectors
 * against the outbox, which still holds every unsent change (a pulled record concurrent with
 * one is a conflict, resolved as always), and the cursor moves only with the pages it
 * applied. The cycle then rejects with the push's error, so the push is retried. Only a
 * cancelled cycle or an auth failure (the pull would fail the same way) skips the pull.
 */
export async function runSyncCycle(
  push: PushSyncStrategy,
  pull: PullSyncStrategy,
  hooks: CycleHooks,
): Promise<SyncResult> {
  // push phase
  let pushError: unknown;
  const pushResult = await push
    .pushChanges({
      signal: hooks.signal,
      onProgress: ({ processed, total, currentItem }) =>
        hooks.onProgress({
          phase: 'uploading',
          totalItems: total,
          processedItems: processed,
          ...(currentItem ? { currentItem } : {}),
        }),
    })
    .catch((error: unknown) => {
      if (hooks.signal.aborted || categorizeError(error).code === SyncErrorCode.AUTH_ERROR) throw error;
      pushError = error;
      return emptyPush();
    });
  await hooks.afterPush();

  // pull phase
  hooks.onProgress({ phase: 'downloading', totalItems: 0, processedItems: 0 });
  const pullResult = await pull
    .pullChanges({
      signal: hooks.signal,
      onProgress: ({ processed, total }) =>
        hooks.onProgress({ phase: 'downloading', totalItems: total, processedItems: processed }),
    })
    .catch((error: unknown) => {
      // The push's failure came first and says more (the pull likely failed for the same reason).
      throw pushError ?? error;
    });
  if (pushError !== undefined) {
    // The pull went through, so the network works: a push cut off mid-body was about its size.
    await push.confirmNetworkWorks();
    throw pushError;
  }
  return { push: pushResult, pull: pullResult };
}

/**
 * One phase alone, as `pushChanges` / `pullChanges` ask for it: the other phase's result is
 * empty (`cursor` is the saved one, for a push-only cycle).
 */
export async function runPhase(
  push: PushSyncStrategy,
  pull: PullSyncStrategy,
  work: 'push' | 'pull',
  signal: AbortSignal,
  cursor: number,
): Promise<SyncResult> {
  if (work === 'push') return { push: await push.pushChanges({ signal }), pull: emptyPull(cursor) };
  return { push: emptyPush(), pull: await pull.pullChanges({ signal }) };
}

/** A push that sent nothing (a pull-only cycle, or a push that failed before its pull). */
export function emptyPush(): PushResult {
  return { totalChanges: 0, successful: 0, failed: 0, conflicts: 0, results: [] };
}

/** A pull that fetched nothing (a push-only cycle). */
export function emptyPull(cursor: number): PullResult {
  return { totalChanges: 0, successful: 0, failed: 0, conflicts: 0, pages: 0, cursor };
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
