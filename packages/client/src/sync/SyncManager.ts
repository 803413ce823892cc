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
 * Offline or backgrounded: triggers are ignored and the live channel is closed; coming back
 * online or to the foreground triggers a sync.
 *
 * Auth (a 401/403 is never retried on a timer):
 *
 *   ok ──AUTH_ERROR──▶ probing ──one immediate attempt; the transport asks getToken({ forceRefresh: true })
 *    ▲                  │  ▲ fails again
 *    │ any sync works   │  └──────────── paused ◀─┘  (no automatic syncs; `paused: 'auth'`)
 *    └──────────────────┘        resume(), back online or to the foreground → probing
 */
import { LIMITS } from '@ferry/protocol';
import type { ConflictResolver } from '../conflicts/ConflictResolver.js';
import { withServerConfig } from '../conflicts/serverStrategies.js';
import { type SyncError, SyncErrorCode } from '../errors.js';
import { SyncErrorHandler } from '../retry/SyncErrorHandler.js';
import { defaultTimers, Signal, type Timers } from '../signals.js';
import type { LocalStore } from '../store/LocalStore.js';
import type { DeadLetter } from '../store/types.js';
import { ChangeTracker } from '../tracking/ChangeTracker.js';
import { type ConflictDecision, ConflictInbox, type StoredConflict, watchConflicts } from './ConflictInbox.js';
import { getOrCreateClientId } from './clientId.js';
import { DeadLetterQueue } from './DeadLetterQueue.js';
import { type PullResult, PullSyncStrategy } from './PullSyncStrategy.js';
import { type PushResult, PushSyncStrategy } from './PushSyncStrategy.js';
import { failedPush, runSyncCycle } from './runSyncCycle.js';
import { SyncTriggers } from './SyncTriggers.js';
import type { SyncConfig, SyncErrorRecord, SyncPause, SyncProgressState, SyncResult, SyncState } from './syncTypes.js';

export type {
  LiveChannel,
  SyncConfig,
  SyncErrorRecord,
  SyncPause,
  SyncPhase,
  SyncProgressState,
  SyncResult,
  SyncState,
} from './syncTypes.js';

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
  /** The in-flight sync was cancelled because the device went offline. */
  #wentOffline = false;
  readonly #triggers: SyncTriggers;
  #retryTimer: unknown = null;
  #idleTimer: unknown = null;
  #probeTimer: unknown = null;
  #consecutiveFailures = 0;
  #auth: 'ok' | 'probing' | 'paused' = 'ok';
  readonly #deadLetters: DeadLetterQueue;
  #started = false;
  #stopped = false;
  readonly #unsubscribeStore: () => void;

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
      paused: null,
    };
    this.#state.paused = this.#pause();
    this.#deadLetters = new DeadLetterQueue(this.#store);
    this.#triggers = new SyncTriggers(
      {
        timers: this.#timers,
        online: this.online,
        appActive: this.appActive,
        store: this.#store,
        live: config.live,
        syncInterval: config.syncInterval ?? 60_000,
        writeDebounceMs: config.writeDebounceMs ?? 300,
        cursor: () => this.#state.cursor,
      },
      {
        trigger: () => void this.triggerSync(),
        wake: () => void this.#wake(),
        signalsChanged: () => {
          this.#setState({ isOnline: this.online.get(), paused: this.#pause() });
          // Offline, a request in flight would only wait for its timeout: cancel it. Whatever
          // the server acknowledged is settled already; coming back online syncs again.
          if (!this.online.get() && this.#abort) {
            this.#wentOffline = true;
            this.#abort.abort();
          }
        },
      },
    );
    // Subscribed here, not in start(): the pending count is exact right after every committed
    // write whether or not the triggers run (a write's event carries the count of its commit).
    this.#unsubscribeStore = this.#store.subscribe((event) => {
      if (event.pendingChanges !== undefined && event.pendingChanges !== this.#state.pendingChanges) {
        this.#setState({ pendingChanges: event.pendingChanges });
      }
    });
    this.#ready = this.#initialize();
    // Surface init failures through the state, not as an unhandled rejection.
    this.#ready.catch((error) => this.#recordError(error));
    if (config.autoStart ?? true) this.start();
  }

  async #initialize() {
    const tracker =
      this.#config.changeTracker ??
      new ChangeTracker(this.#store, this.#config.clientId ?? (await getOrCreateClientId(this.#store)));
    const resolver = this.#config.conflictResolver as Partial<ConflictResolver> | undefined;
    // On connect the server says which entity types it declares, its limits and the conflict
    // strategies it arbitrates with: writes are checked and pushes sized by them from then on.
    const api = withServerConfig(this.#config.remoteAPI, async (serverConfig) => {
      resolver?.adoptServerStrategies?.(serverConfig.conflictStrategies);
      await tracker.rules.learn(serverConfig, this.#store.closed ? undefined : this.#store.kv);
    });
    const push = new PushSyncStrategy(api, tracker, {
      batchSize: this.#config.batchSize ?? LIMITS.maxChangesPerPush,
      now: this.#now,
      ...(this.#config.conflictResolver ? { conflictResolver: this.#config.conflictResolver } : {}),
    });
    const pull = new PullSyncStrategy(api, tracker, {
      pageSize: this.#config.pageSize ?? LIMITS.maxPullLimit,
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

  /** Listens to triggers: connectivity, foreground, interval, local writes, pokes. Idempotent. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#triggers.start();
  }

  /** Coming back online or to the foreground: an auth pause gets one more probe. */
  #wake(): Promise<void> {
    return this.#auth === 'ok' ? this.triggerSync() : this.resume();
  }

  /**
   * Leaves the auth pause (call it after the user signs in again) and syncs at once; the
   * transport asks the token provider for a fresh token. Without a pause it is `triggerSync()`.
   */
  resume(): Promise<void> {
    if (this.#auth !== 'ok') this.#auth = 'probing';
    return this.#run();
  }

  /** Stops every trigger and timer and cancels in-flight requests. Waits for the running sync to end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#triggers.stop();
    this.#unsubscribeStore();
    for (const timer of [this.#retryTimer, this.#idleTimer, this.#probeTimer]) {
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

  /** Changes the server rejected for good, oldest first. */
  listDeadLetters(): Promise<DeadLetter[]> {
    return this.#deadLetters.list();
  }

  /** Sends a dead change again (same id) and syncs; false when there is no such dead letter. */
  async retryDeadLetter(changeId: string): Promise<boolean> {
    const found = await this.#deadLetters.retry(changeId);
    if (found) {
      await this.#refreshPending();
      void this.triggerSync();
    }
    return found;
  }

  /** Forgets a dead change; false when there is no such dead letter. */
  discardDeadLetter(changeId: string): Promise<boolean> {
    return this.#deadLetters.discard(changeId);
  }

  /** Hears the dead-letter list now and whenever it changes; returns unsubscribe. */
  subscribeToDeadLetters(listener: (deadLetters: DeadLetter[]) => void): () => void {
    return this.#deadLetters.subscribe(listener);
  }

  /**
   * Starts a sync unless one is running (then one follow-up is queued), the device is
   * offline, the app is in the background, or syncing is paused for auth. Never rejects:
   * failures land in the state.
   */
  triggerSync(): Promise<void> {
    if (this.#auth !== 'ok' && !this.#running) return Promise.resolve();
    return this.#run();
  }

  #run(): Promise<void> {
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
    } while (this.#followUp && !this.#stopped && this.#auth === 'ok' && this.#state.paused === null);
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
      return failedPush(error, await tracker.getPendingChanges(this.#config.batchSize ?? LIMITS.maxChangesPerPush));
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

  // ── conflict inbox (thin delegation to ConflictInbox) ─────────────────────────────────────
  #conflictInbox: Promise<ConflictInbox> | undefined;

  #inbox(): Promise<ConflictInbox> {
    this.#conflictInbox ??= this.ready().then(
      (tracker) => new ConflictInbox(tracker, { onResolved: () => void this.triggerSync() }),
    );
    return this.#conflictInbox;
  }

  /** Manual conflicts waiting for a decision (persisted: they survive a restart), oldest first. */
  async listConflicts(): Promise<StoredConflict[]> {
    return (await this.#inbox()).list();
  }

  /**
   * Decides a parked conflict: it becomes one new change that syncs, the entity's held
   * changes are released, and a sync is triggered. An unknown id throws and changes nothing.
   */
  async resolveConflict(id: string, resolution: ConflictDecision): Promise<void> {
    await (await this.#inbox()).resolve(id, resolution);
  }

  /** Calls `listener` after every change of the conflict inbox; returns the unsubscribe function. */
  subscribeToConflicts(listener: () => void): () => void {
    return watchConflicts(this.#store, listener);
  }
  // ── end of conflict inbox ─────────────────────────────────────────────────────────────────

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
    this.#wentOffline = false;
    this.#setState({ syncInProgress: true });
    this.#setProgress({ phase: 'preparing', totalItems: 0, processedItems: 0 });
    try {
      const { push: pushResult, pull: pullResult } = await runSyncCycle(push, pull, {
        signal: abort.signal,
        onProgress: (progress) => this.#setProgress(progress),
        afterPush: () => this.#refreshPending(),
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
      // Any sync that gets through proves the token works again.
      this.#auth = 'ok';
      this.#setState({
        lastSyncTimestamp: this.#now(),
        syncErrors: changeErrors,
        pendingChanges: pending,
        cursor: pullResult.cursor,
        paused: this.#pause(),
      });
      this.#setProgress({
        phase: 'complete',
        totalItems: pushResult.totalChanges + pullResult.totalChanges,
        processedItems: pushResult.totalChanges + pullResult.totalChanges,
      });
      this.#scheduleIdle();
      return { push: pushResult, pull: pullResult };
    } catch (caught) {
      // A failed push does not skip the pull: the cursor may have moved.
      if (!this.#store.closed) this.#setState({ cursor: await pull.getCursor().catch(() => this.#state.cursor) });
      if (this.#stopped || this.#wentOffline) {
        // Cancelled by stop() or by going offline: not a failure worth showing or retrying.
        this.#setProgress({ phase: 'idle', totalItems: 0, processedItems: 0 });
        throw this.errorHandler.categorizeError(caught);
      }
      const error = this.#recordError(caught);
      if (error.code === SyncErrorCode.AUTH_ERROR) this.#onAuthError();
      else if (error.retryable) this.#scheduleRetry(error);
      throw error;
    } finally {
      this.#abort = null;
      await this.#persist();
      // Also after a failed pull: the push before it may have dead-lettered changes.
      await this.#deadLetters.refresh().catch(() => undefined);
      this.#setState({ syncInProgress: false });
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

  /** First auth failure: one probe at once (with a refreshed token); a failed probe pauses. */
  #onAuthError(): void {
    if (this.#auth === 'ok') {
      this.#auth = 'probing';
      this.#probeTimer = this.#timers.setTimeout(() => {
        this.#probeTimer = null;
        void this.#afterRunning(() => (this.#auth === 'probing' ? this.#run() : undefined));
      }, 0);
    } else {
      this.#auth = 'paused';
    }
    this.#setState({ paused: this.#pause() });
  }

  #pause(): SyncPause | null {
    if (this.#auth !== 'ok') return 'auth';
    if (!this.online.get()) return 'offline';
    if (!this.appActive.get()) return 'background';
    return null;
  }

  #scheduleRetry(error: SyncError): void {
    const delay = this.errorHandler.calculateDelay(this.#consecutiveFailures, error);
    this.#retryTimer = this.#timers.setTimeout(() => {
      this.#retryTimer = null;
      void this.#afterRunning(() => this.triggerSync());
    }, delay);
  }

  /**
   * Runs `fn` once the current run has ended. A timer set by a failed sync can fire while that
   * run is still winding down, and a failed run drops follow-ups (the timer is the follow-up).
   */
  async #afterRunning(fn: () => Promise<void> | undefined): Promise<void> {
    await this.#running?.catch(() => undefined);
    await fn();
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
