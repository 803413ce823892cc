/**
 * The sync loop. One sync at a time; triggers that arrive during a sync coalesce into
 * exactly one follow-up.
 *
 *            trigger (write, online, foreground, interval, poke, retry timer)
 *                 │
 *   ┌──────▶ idle ┴─▶ preparing ─▶ uploading ─▶ downloading ─▶ complete ─┐
 *   │                     │            │             │                   │
 *   │                     └────────────┴─────────────┴──▶ error ─────────┤
 *   │                                          (retryable: backoff timer) │
 *   └─────────────────────────────────────────────────────────────────────┘
 *
 * Offline or backgrounded: triggers are ignored; coming back online or to the foreground
 * triggers a sync.
 */
import { LIMITS } from '@ferry/protocol';
import type { SyncError } from '../errors.js';
import { SyncErrorHandler } from '../retry/SyncErrorHandler.js';
import { defaultTimers, Signal, type Timers } from '../signals.js';
import type { LocalStore } from '../store/LocalStore.js';
import { ChangeTracker } from '../tracking/ChangeTracker.js';
import type { RemoteAPI } from '../transport/RemoteAPI.js';
import { getOrCreateClientId } from './clientId.js';
import { type PullResult, PullSyncStrategy } from './PullSyncStrategy.js';
import { type PushResult, PushSyncStrategy } from './PushSyncStrategy.js';
import type { ConflictResolverLike } from './resolveConflicts.js';

/** One recorded sync failure (the seed's `SyncError` record in `SyncState`). */
export interface SyncErrorRecord {
  changeId?: string;
  errorCode: string;
  message: string;
  retryCount: number;
  lastRetryTimestamp: number;
}

/**
 * The manager's state (the seed's `SyncState`). `pendingChanges` is a COUNT, not the list:
 * the outbox may hold more changes than fit in memory, and the UI only needs the number.
 */
export interface SyncState {
  lastSyncTimestamp: number;
  pendingChanges: number;
  syncInProgress: boolean;
  syncErrors: SyncErrorRecord[];
  /** Server sequence this device has pulled up to. */
  cursor: number;
  isOnline: boolean;
}

/** Phases of the progress feed behind `<SyncProgress>`. */
export type SyncPhase = 'idle' | 'preparing' | 'uploading' | 'downloading' | 'complete' | 'error';

/** What `subscribeToProgress` listeners receive (the seed's `SyncProgressState`). */
export interface SyncProgressState {
  phase: SyncPhase;
  totalItems: number;
  processedItems: number;
  currentItem?: string;
  error?: string;
}

/** Result of a full sync. */
export interface SyncResult {
  push: PushResult;
  pull: PullResult;
}

/** Configuration of a {@link SyncManager} (the seed's `SyncConfig`, plus the pluggable parts). */
export interface SyncConfig {
  localStore: LocalStore;
  remoteAPI: RemoteAPI;
  conflictResolver?: ConflictResolverLike;
  /** Periodic sync, in ms; 0 turns it off. Default 60 000. */
  syncInterval?: number;
  /** Changes per push request. Default 50. */
  batchSize?: number;
  /** Records per pull page. Default 500. */
  pageSize?: number;
  /** Partial sync: pull only these entity types. */
  pullTypes?: readonly string[];
  changeTracker?: ChangeTracker;
  /** The device id; read from (or created in) the store when absent. */
  clientId?: string;
  errorHandler?: SyncErrorHandler;
  /** Network availability; a platform package feeds it (NetInfo). */
  online?: Signal<boolean>;
  /** Foreground state; a platform package feeds it (AppState). */
  appActive?: Signal<boolean>;
  /** Delay between a local write and the sync it triggers, coalescing bursts. Default 300 ms; -1 off. */
  writeDebounceMs?: number;
  /** How long `complete` shows before the feed returns to `idle`. Default 1500 ms. */
  completeDisplayMs?: number;
  timers?: Timers;
  now?: () => number;
  /** Start listening to triggers at once. Default true. */
  autoStart?: boolean;
}

const STATE_KEY = 'ferry:syncState';

/**
 * Runs push-then-pull cycles and tells listeners about state and progress.
 *
 * @example
 * const syncManager = new SyncManager({ localStore, remoteAPI, clientId: 'device-a' });
 * syncManager.subscribe((state) => console.log(state.pendingChanges));
 * await syncManager.triggerSync();
 */
export class SyncManager {
  readonly #config: SyncConfig;
  readonly #store: LocalStore;
  readonly #timers: Timers;
  readonly #now: () => number;
  readonly online: Signal<boolean>;
  readonly appActive: Signal<boolean>;
  readonly errorHandler: SyncErrorHandler;
  #state: SyncState;
  #progress: SyncProgressState = { phase: 'idle', totalItems: 0, processedItems: 0 };
  readonly #listeners = new Set<(state: SyncState) => void>();
  readonly #progressListeners = new Set<(progress: SyncProgressState) => void>();
  #ready: Promise<{ tracker: ChangeTracker; push: PushSyncStrategy; pull: PullSyncStrategy }>;
  #running: Promise<void> | null = null;
  #followUp = false;
  #abort: AbortController | null = null;
  #cleanups: Array<() => void> = [];
  #intervalTimer: unknown = null;
  #debounceTimer: unknown = null;
  #retryTimer: unknown = null;
  #idleTimer: unknown = null;
  #consecutiveFailures = 0;
  #started = false;
  #stopped = false;

  constructor(config: SyncConfig) {
    this.#config = config;
    this.#store = config.localStore;
    this.#timers = config.timers ?? defaultTimers;
    this.#now = config.now ?? Date.now;
    this.online = config.online ?? new Signal(true);
    this.appActive = config.appActive ?? new Signal(true);
    this.errorHandler = config.errorHandler ?? new SyncErrorHandler();
    this.#state = {
      lastSyncTimestamp: 0,
      pendingChanges: 0,
      syncInProgress: false,
      syncErrors: [],
      cursor: 0,
      isOnline: this.online.get(),
    };
    this.#ready = this.#initialize();
    // Surface init failures through the state, not as an unhandled rejection.
    this.#ready.catch((error) => this.#recordError(error));
    if (config.autoStart ?? true) this.start();
  }

  async #initialize() {
    const tracker =
      this.#config.changeTracker ??
      new ChangeTracker(this.#store, this.#config.clientId ?? (await getOrCreateClientId(this.#store)));
    const push = new PushSyncStrategy(this.#config.remoteAPI, tracker, {
      batchSize: this.#config.batchSize ?? 50,
      now: this.#now,
      ...(this.#config.conflictResolver ? { conflictResolver: this.#config.conflictResolver } : {}),
    });
    const pull = new PullSyncStrategy(this.#config.remoteAPI, tracker, {
      pageSize: this.#config.pageSize ?? LIMITS.defaultPullLimit,
      ...(this.#config.pullTypes ? { types: this.#config.pullTypes } : {}),
      ...(this.#config.conflictResolver ? { conflictResolver: this.#config.conflictResolver } : {}),
    });
    const saved = await this.#store.kv.getItem(STATE_KEY);
    if (saved) {
      const parsed = JSON.parse(saved) as Partial<SyncState>;
      this.#state.lastSyncTimestamp = Number(parsed.lastSyncTimestamp ?? 0);
      this.#state.syncErrors = Array.isArray(parsed.syncErrors) ? parsed.syncErrors : [];
    }
    this.#state.pendingChanges = await this.#store.countPending();
    this.#state.cursor = await pull.getCursor();
    this.#notify();
    return { tracker, push, pull };
  }

  /** Resolves once the store state is loaded; gives the change tracker. */
  async ready(): Promise<ChangeTracker> {
    return (await this.#ready).tracker;
  }

  /** Listens to triggers: connectivity, foreground, interval, local writes. Idempotent. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#cleanups.push(
      this.online.subscribe((online) => {
        this.#setState({ isOnline: online });
        if (online) void this.triggerSync();
      }),
      this.appActive.subscribe((active) => {
        if (active) void this.triggerSync();
      }),
      this.#store.subscribe((event) => {
        if (!event.outbox) return;
        void this.#refreshPending();
        const debounce = this.#config.writeDebounceMs ?? 300;
        if (debounce < 0) return;
        if (this.#debounceTimer !== null) this.#timers.clearTimeout(this.#debounceTimer);
        this.#debounceTimer = this.#timers.setTimeout(() => {
          this.#debounceTimer = null;
          void this.triggerSync();
        }, debounce);
      }),
    );
    this.#scheduleInterval();
  }

  #scheduleInterval(): void {
    const interval = this.#config.syncInterval ?? 60_000;
    if (interval <= 0 || this.#stopped) return;
    this.#intervalTimer = this.#timers.setTimeout(() => {
      void this.triggerSync();
      this.#scheduleInterval();
    }, interval);
  }

  /** Stops every trigger and timer and cancels in-flight requests. Waits for the running sync to end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    for (const timer of [this.#intervalTimer, this.#debounceTimer, this.#retryTimer, this.#idleTimer]) {
      if (timer !== null) this.#timers.clearTimeout(timer);
    }
    this.#abort?.abort();
    await this.#running?.catch(() => undefined);
  }

  getState(): SyncState {
    return this.#state;
  }

  getProgress(): SyncProgressState {
    return this.#progress;
  }

  subscribe(listener: (state: SyncState) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  subscribeToProgress(listener: (progress: SyncProgressState) => void): () => void {
    this.#progressListeners.add(listener);
    return () => {
      this.#progressListeners.delete(listener);
    };
  }

  /**
   * Starts a sync unless one is running (then one follow-up is queued), the device is
   * offline, or the app is in the background. Never rejects: failures land in the state.
   */
  triggerSync(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#running) {
      this.#followUp = true;
      return this.#running;
    }
    if (!this.online.get() || !this.appActive.get()) return Promise.resolve();
    this.#running = this.#loop().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #loop(): Promise<void> {
    do {
      this.#followUp = false;
      try {
        await this.#performSync();
      } catch {
        // Recorded in the state by #performSync; a failed sync does not run the follow-up.
        this.#followUp = false;
      }
    } while (this.#followUp && !this.#stopped && this.online.get());
  }

  /**
   * Runs one full push-then-pull sync now, waiting for a running one first. Rejects with
   * the categorised error when it fails (the seed's `performFullSync`, behind `forceSync`).
   */
  async performFullSync(): Promise<SyncResult> {
    await this.#running?.catch(() => undefined);
    let result: SyncResult | undefined;
    const run = this.#performSync().then((r) => {
      result = r;
    });
    this.#running = run.catch(() => undefined).finally(() => (this.#running = null));
    await run;
    return result!;
  }

  /**
   * The push phase alone. A failed request does not reject: its changes count as `failed`
   * and the categorised error is in `error` (they stay queued for the next sync).
   */
  async pushChanges(): Promise<PushResult & { error?: SyncError }> {
    const { push, tracker } = await this.#ready;
    try {
      return await push.pushChanges();
    } catch (caught) {
      const error = this.errorHandler.categorizeError(caught);
      const pending = await tracker.getPendingChanges(this.#config.batchSize ?? 50);
      return {
        totalChanges: pending.length,
        successful: 0,
        failed: pending.length,
        conflicts: 0,
        results: pending.map((change) => ({
          changeId: change.id,
          success: false,
          status: 'rejected' as const,
          error: { code: error.code, message: error.message, retryable: error.retryable },
        })),
        error,
      };
    } finally {
      await this.#refreshPending();
    }
  }

  /** The pull phase alone. */
  async pullChanges(): Promise<PullResult> {
    const { pull } = await this.#ready;
    const result = await pull.pullChanges();
    this.#setState({ cursor: result.cursor });
    return result;
  }

  async #performSync(): Promise<SyncResult> {
    const { push, pull } = await this.#ready;
    if (this.#retryTimer !== null) {
      this.#timers.clearTimeout(this.#retryTimer);
      this.#retryTimer = null;
    }
    if (this.#idleTimer !== null) {
      this.#timers.clearTimeout(this.#idleTimer);
      this.#idleTimer = null;
    }
    const abort = new AbortController();
    this.#abort = abort;
    this.#setState({ syncInProgress: true });
    this.#setProgress({ phase: 'preparing', totalItems: 0, processedItems: 0 });
    try {
      const pushResult = await push.pushChanges({
        signal: abort.signal,
        onProgress: ({ processed, total, currentItem }) =>
          this.#setProgress({
            phase: 'uploading',
            totalItems: total,
            processedItems: processed,
            ...(currentItem ? { currentItem } : {}),
          }),
      });
      await this.#refreshPending();
      this.#setProgress({ phase: 'downloading', totalItems: 0, processedItems: 0 });
      const pullResult = await pull.pullChanges({
        signal: abort.signal,
        onProgress: ({ processed, total }) =>
          this.#setProgress({ phase: 'downloading', totalItems: total, processedItems: processed }),
      });
      // Conflicts resolved during the pull may have queued changes: push them in a follow-up.
      const pending = await this.#store.countPending();
      if (pullResult.conflicts > 0 && pending > 0) this.#followUp = true;
      this.#consecutiveFailures = 0;
      const changeErrors = pushResult.results
        .filter((r) => !r.success && r.error)
        .map((r) => ({
          changeId: r.changeId,
          errorCode: r.error!.code,
          message: r.error!.message,
          retryCount: 0,
          lastRetryTimestamp: this.#now(),
        }));
      this.#setState({
        lastSyncTimestamp: this.#now(),
        syncErrors: changeErrors,
        pendingChanges: pending,
        cursor: pullResult.cursor,
      });
      this.#setProgress({
        phase: 'complete',
        totalItems: pushResult.totalChanges + pullResult.totalChanges,
        processedItems: pushResult.totalChanges + pullResult.totalChanges,
      });
      this.#scheduleIdle();
      return { push: pushResult, pull: pullResult };
    } catch (caught) {
      const error = this.#recordError(caught);
      if (error.retryable && !this.#stopped) this.#scheduleRetry(error);
      throw error;
    } finally {
      this.#abort = null;
      this.#setState({ syncInProgress: false });
      await this.#persist();
    }
  }

  #recordError(caught: unknown): SyncError {
    const error = this.errorHandler.categorizeError(caught);
    this.#consecutiveFailures++;
    const record: SyncErrorRecord = {
      errorCode: error.code,
      message: error.message,
      retryCount: this.#consecutiveFailures - 1,
      lastRetryTimestamp: this.#now(),
    };
    this.#setState({ syncErrors: [...this.#state.syncErrors.slice(-19), record] });
    this.#setProgress({ phase: 'error', totalItems: 0, processedItems: 0, error: error.message });
    this.#scheduleIdle();
    return error;
  }

  #scheduleRetry(error: SyncError): void {
    const delay = this.errorHandler.calculateDelay(this.#consecutiveFailures, error);
    this.#retryTimer = this.#timers.setTimeout(() => {
      this.#retryTimer = null;
      void this.triggerSync();
    }, delay);
  }

  #scheduleIdle(): void {
    if (this.#idleTimer !== null) this.#timers.clearTimeout(this.#idleTimer);
    this.#idleTimer = this.#timers.setTimeout(() => {
      this.#idleTimer = null;
      if (!this.#state.syncInProgress) this.#setProgress({ phase: 'idle', totalItems: 0, processedItems: 0 });
    }, this.#config.completeDisplayMs ?? 1500);
  }

  async #refreshPending(): Promise<void> {
    if (this.#store.closed) return;
    const pendingChanges = await this.#store.countPending();
    if (pendingChanges !== this.#state.pendingChanges) this.#setState({ pendingChanges });
  }

  async #persist(): Promise<void> {
    if (this.#store.closed) return;
    const { lastSyncTimestamp, syncErrors } = this.#state;
    await this.#store.kv.setItem(STATE_KEY, JSON.stringify({ lastSyncTimestamp, syncErrors }));
  }

  #setState(partial: Partial<SyncState>): void {
    this.#state = { ...this.#state, ...partial };
    this.#notify();
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener(this.#state);
  }

  #setProgress(progress: SyncProgressState): void {
    this.#progress = progress;
    for (const listener of [...this.#progressListeners]) listener(progress);
  }
}
