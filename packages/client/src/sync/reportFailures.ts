import { fromWireError } from '../retry/fromWireError.js';
import type { SyncErrorHandler } from '../retry/SyncErrorHandler.js';
import type { CycleOutcome } from './SyncLoop.js';
import type { SyncResult, SyncState } from './syncTypes.js';

/** The id under which a failed sync cycle is listed in `getFailedOperations()`. */
export const SYNC_OPERATION_ID = 'sync';

/**
 * Keeps a {@link SyncErrorHandler}'s failed operations true for the engine, which retries on
 * its own schedule instead of through `executeWithRetry`: after every full cycle,
 *
 *   failed cycle → `sync` listed, its retry count = failed cycles in a row before it
 *   cycle through → `sync` cleared; every change the push could not deliver listed under its
 *                   change id (retry count from `state.syncErrors`), the earlier ones cleared
 */
export class FailureReport {
  readonly #handler: SyncErrorHandler;
  readonly #listed = new Set<string>();

  constructor(handler: SyncErrorHandler) {
    this.#handler = handler;
  }

  /** Records a full cycle's outcome; `state` is the manager's state after it. */
  cycleSettled(outcome: CycleOutcome<SyncResult>, state: SyncState, consecutiveFailures: number): void {
    if (!outcome.ok) {
      this.#handler.recordFailure(SYNC_OPERATION_ID, outcome.error, Math.max(0, consecutiveFailures - 1));
      return;
    }
    this.#handler.clearError(SYNC_OPERATION_ID);
    for (const id of this.#listed) this.#handler.clearError(id);
    this.#listed.clear();
    const retries = new Map(state.syncErrors.map((record) => [record.changeId, record.retryCount]));
    for (const result of outcome.value.push.results) {
      if (result.success || !result.error) continue;
      const error = fromWireError(result.error, result.changeId);
      this.#handler.recordFailure(result.changeId, error, retries.get(result.changeId) ?? 0);
      this.#listed.add(result.changeId);
    }
  }
}
