import type { SyncErrorHandler } from '../retry/SyncErrorHandler.js';
import type { LocalStore } from '../store/LocalStore.js';
import type { Engine } from './buildEngine.js';
import { runSyncCycle } from './runSyncCycle.js';
import type { CycleOutcome } from './SyncLoop.js';
import type { SyncStatus } from './SyncStatus.js';
import type { SyncPause, SyncResult } from './syncTypes.js';

/** What a SyncManager's full cycle reads and reports to (getters: fields are set in its constructor). */
export interface FullCycleContext {
  status(): SyncStatus;
  store(): LocalStore;
  errorHandler(): SyncErrorHandler;
  /** The cycle was cancelled (stop, or offline): not a failure worth showing or retrying. */
  cancelled(): boolean;
  pause(): SyncPause | null;
  /** A sync got through: the token works again. */
  succeeded(): void;
  /** Asks the loop for a follow-up cycle. */
  followUp(): void;
}

/**
 * A SyncManager's full cycle: {@link runSyncCycle} with the progress feed and state kept up to
 * date. Never rejects: a failure is an outcome (recorded in the state unless cancelled).
 */
export async function runFullCycle(
  ctx: FullCycleContext,
  { push, pull }: Engine,
  signal: AbortSignal,
): Promise<CycleOutcome<SyncResult>> {
  const status = ctx.status();
  const store = ctx.store();
  status.progressTo({ phase: 'preparing', totalItems: 0, processedItems: 0 });
  try {
    const result = await runSyncCycle(push, pull, {
      signal,
      onProgress: (progress) => status.progressTo(progress),
      afterPush: () => status.refreshPending(),
    });
    const pending = await store.countPending();
    // Conflicts resolved during the pull may have queued changes: push them in a follow-up.
    if (result.pull.conflicts > 0 && pending > 0) ctx.followUp();
    ctx.succeeded();
    status.completed(result, pending, ctx.pause());
    return { ok: true, value: result };
  } catch (caught) {
    // A failed push does not skip the pull: the cursor may have moved.
    if (!store.closed) status.set({ cursor: await pull.getCursor().catch(() => status.state.cursor) });
    const error = ctx.errorHandler().categorizeError(caught);
    if (ctx.cancelled()) status.progressTo({ phase: 'idle', totalItems: 0, processedItems: 0 });
    else status.recordError(error);
    return { ok: false, error };
  }
}
