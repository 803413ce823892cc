import type { SyncError } from '../errors.js';
import { Signal, type Timers } from '../signals.js';
import type { LocalStore } from '../store/LocalStore.js';
import type { SyncErrorRecord, SyncPause, SyncProgressState, SyncResult, SyncState } from './syncTypes.js';

const STATE_KEY = 'ferry:syncState';
const IDLE: SyncProgressState = { phase: 'idle', totalItems: 0, processedItems: 0 };

/** The engine's status as the app sees it (`syncManager.status`, `sync.status`). */
export interface SyncStatusView {
  /** The state now: pending count, last sync, errors, cursor, online, pause. */
  readonly state: SyncState;
  /** The progress feed now (what `<SyncProgress>` draws). */
  readonly progress: SyncProgressState;
  /** Hears every state change; returns unsubscribe. */
  subscribe(listener: (state: SyncState) => void): () => void;
  /** Hears every progress change; returns unsubscribe. */
  subscribeToProgress(listener: (progress: SyncProgressState) => void): () => void;
}

/**
 * The engine's observable status: the persisted {@link SyncState} and the progress feed, each
 * a {@link Signal}. The pending count follows the store's commits, so it is exact the moment a
 * write resolves, whether or not syncing has started.
 */
export class SyncStatus implements SyncStatusView {
  readonly #store: LocalStore;
  readonly #timers: Timers;
  readonly #now: () => number;
  readonly #completeDisplayMs: number;
  readonly #state: Signal<SyncState>;
  readonly #progress = new Signal<SyncProgressState>(IDLE);
  readonly #unsubscribeStore: () => void;
  #idleTimer: unknown = null;
  /** Failed cycles in a row; the retry backoff grows with it. */
  consecutiveFailures = 0;

  constructor(store: LocalStore, timers: Timers, now: () => number, completeDisplayMs: number) {
    this.#store = store;
    this.#timers = timers;
    this.#now = now;
    this.#completeDisplayMs = completeDisplayMs;
    this.#state = new Signal<SyncState>({
      lastSyncTimestamp: 0,
      pendingChanges: 0,
      syncInProgress: false,
      syncErrors: [],
      cursor: 0,
      isOnline: true,
      paused: null,
    });
    // A write's event carries the outbox count of its commit.
    this.#unsubscribeStore = store.subscribe((event) => {
      if (event.pendingChanges !== undefined && event.pendingChanges !== this.state.pendingChanges) {
        this.set({ pendingChanges: event.pendingChanges });
      }
    });
  }

  get state(): SyncState {
    return this.#state.get();
  }

  get progress(): SyncProgressState {
    return this.#progress.get();
  }

  subscribe(listener: (state: SyncState) => void): () => void {
    return this.#state.subscribe(listener);
  }

  subscribeToProgress(listener: (progress: SyncProgressState) => void): () => void {
    return this.#progress.subscribe(listener);
  }

  set(partial: Partial<SyncState>): void {
    this.#state.set({ ...this.state, ...partial });
  }

  progressTo(progress: SyncProgressState): void {
    this.#progress.set(progress);
  }

  /** Reads the persisted state and the pending count (once, at start). */
  async load(cursor: number): Promise<void> {
    const saved = await this.#store.kv.getItem(STATE_KEY);
    const parsed = saved ? (JSON.parse(saved) as Partial<SyncState>) : {};
    this.set({
      lastSyncTimestamp: Number(parsed.lastSyncTimestamp ?? 0),
      syncErrors: Array.isArray(parsed.syncErrors) ? parsed.syncErrors : [],
      pendingChanges: await this.#store.countPending(),
      cursor,
    });
  }

  async persist(): Promise<void> {
    if (this.#store.closed) return;
    const { lastSyncTimestamp, syncErrors } = this.state;
    await this.#store.kv.setItem(STATE_KEY, JSON.stringify({ lastSyncTimestamp, syncErrors }));
  }

  async refreshPending(): Promise<void> {
    if (this.#store.closed) return;
    const pendingChanges = await this.#store.countPending();
    if (pendingChanges !== this.state.pendingChanges) this.set({ pendingChanges });
  }

  /**
   * A cycle went through: per-change errors replace the list (a change's `retryCount` counts
   * the cycles in a row it failed in before this one), the feed shows `complete`.
   */
  completed(result: SyncResult, pendingChanges: number, paused: SyncPause | null): void {
    this.consecutiveFailures = 0;
    const now = this.#now();
    // A change that failed in the cycle before too has been retried once more since.
    const before = new Map<string, number>();
    for (const record of this.state.syncErrors) if (record.changeId) before.set(record.changeId, record.retryCount);
    const syncErrors: SyncErrorRecord[] = result.push.results
      .filter((r) => !r.success && r.error)
      .map((r) => {
        const previous = before.get(r.changeId);
        return {
          changeId: r.changeId,
          errorCode: r.error!.code,
          message: r.error!.message,
          retryCount: previous === undefined ? 0 : previous + 1,
          lastRetryTimestamp: now,
        };
      });
    this.set({ lastSyncTimestamp: now, syncErrors, pendingChanges, cursor: result.pull.cursor, paused });
    const total = result.push.totalChanges + result.pull.totalChanges;
    this.progressTo({ phase: 'complete', totalItems: total, processedItems: total });
    this.#scheduleIdle();
  }

  /** A cycle failed: the error joins the (bounded) list, the feed shows `error`. */
  recordError(error: SyncError): void {
    this.consecutiveFailures++;
    const record: SyncErrorRecord = {
      errorCode: error.code,
      message: error.message,
      retryCount: this.consecutiveFailures - 1,
      lastRetryTimestamp: this.#now(),
    };
    this.set({ syncErrors: [...this.state.syncErrors.slice(-19), record] });
    this.progressTo({ phase: 'error', totalItems: 0, processedItems: 0, error: error.message });
    this.#scheduleIdle();
  }

  stop(): void {
    this.#unsubscribeStore();
    if (this.#idleTimer !== null) this.#timers.clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
  }

  /** `complete` and `error` show for a moment, then the feed returns to `idle`. */
  #scheduleIdle(): void {
    if (this.#idleTimer !== null) this.#timers.clearTimeout(this.#idleTimer);
    this.#idleTimer = this.#timers.setTimeout(() => {
      this.#idleTimer = null;
      if (!this.state.syncInProgress) this.progressTo(IDLE);
    }, this.#completeDisplayMs);
  }
}
