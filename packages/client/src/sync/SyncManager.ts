/**
 * The sync engine's owner: it wires the one {@link SyncLoop} (the scheduler every reason to
 * sync goes through), keeps the persisted {@link SyncState} and the progress feed, and decides
 * what a cycle's outcome means (retry timer, auth pause ({@link AuthGate}), follow-up).
 *
 * A full cycle, as the progress feed shows it:
 *
 *   idle ─▶ preparing ─▶ uploading ─▶ downloading ─▶ complete ─▶ idle
 *                           │  (a failed push still pulls)│
 *                           └──────────────┴──▶ error ──(retryable: backoff timer)──▶ idle
 *
 * Offline or backgrounded: automatic requests are gated off and the live channel is closed;
 * going offline cancels the cycle in flight; coming back online or to the foreground syncs.
 */
import { LIMITS } from '@ferry/protocol';
import { SyncError, SyncErrorCode } from '../errors.js';
import { SyncErrorHandler } from '../retry/SyncErrorHandler.js';
import { defaultTimers, Signal, type Timers } from '../signals.js';
import type { LocalStore } from '../store/LocalStore.js';
import type { ChangeTracker } from '../tracking/ChangeTracker.js';
import { AuthGate } from './AuthGate.js';
import { buildEngine, type Engine } from './buildEngine.js';
import type { PullResult } from './PullSyncStrategy.js';
import type { PushResult } from './PushSyncStrategy.js';
import { FailureReport } from './reportFailures.js';
import { type FullCycleContext, runFullCycle } from './runFullCycle.js';
import { failedPush, runPhase } from './runSyncCycle.js';
import { SyncInboxes } from './SyncInboxes.js';
import { type CycleOutcome, SyncLoop, type SyncUrgency, type SyncWork } from './SyncLoop.js';
import { SyncStatus, type SyncStatusView } from './SyncStatus.js';
import { SyncTriggers } from './SyncTriggers.js';
import { claimStoreEngine, releaseStoreEngine, type StoreEngine } from './storeEngine.js';
import type { SyncConfig, SyncProgressState, SyncResult, SyncState } from './syncTypes.js';

/**
 * Runs push-then-pull cycles and tells listeners about state and progress.
 *
 * @example
 * const syncManager = new SyncManager({ localStore, remoteAPI, clientId: 'device-a' });
 * syncManager.subscribe((state) => console.log(state.pendingChanges));
 * await syncManager.triggerSync();
 */
export class SyncManager extends SyncInboxes {
  readonly #config: SyncConfig;
  readonly #store: LocalStore;
  readonly #timers: Timers;
  readonly #now: () => number;
  readonly online: Signal<boolean>;
  readonly appActive: Signal<boolean>;
  readonly errorHandler: SyncErrorHandler;
  readonly #failures: FailureReport;
  readonly #status: SyncStatus;
  readonly #loop: SyncLoop<SyncResult>;
  readonly #ready: Promise<Engine>;
  readonly #triggers: SyncTriggers;
  /** The cycle in flight was cancelled (stop, or the device went offline): not a failure. */
  #cancelled = false;
  #retryTimer: unknown = null;
  readonly #auth: AuthGate;
  #started = false;
  #stopped = false;
  /** What a full cycle reports to. */
  readonly #cycleContext: FullCycleContext = {
    status: () => this.#status,
    store: () => this.#store,
    errorHandler: () => this.errorHandler,
    cancelled: () => this.#cancelled,
    pause: () => this.#pause(),
    succeeded: () => this.#auth.succeeded(),
    followUp: () => void this.#loop.request('full', 'auto'),
  };
  /** This manager as the store's one engine, for VersionVectorSync, TimestampBasedSync and TwoWaySyncStrategy. */
  readonly #engine: StoreEngine = { run: (work) => this.#run(work) };

  constructor(config: SyncConfig) {
    super(
      config.localStore,
      () => this.ready(),
      () => void this.triggerSync(),
    );
    this.#config = config;
    this.#store = config.localStore;
    this.#timers = config.timers ?? defaultTimers;
    this.#now = config.now ?? Date.now;
    this.online = config.online ?? new Signal(true);
    this.appActive = config.appActive ?? new Signal(true);
    this.errorHandler = config.errorHandler ?? new SyncErrorHandler();
    this.#failures = new FailureReport(this.errorHandler);
    this.#auth = new AuthGate(this.#timers, () => void this.#loop.request('full', 'probe'));
    this.#status = new SyncStatus(this.#store, this.#timers, this.#now, config.completeDisplayMs ?? 1500);
    this.#status.set({ isOnline: this.online.get(), paused: this.#pause() });
    this.#loop = new SyncLoop<SyncResult>({
      canStart: (urgency) => this.#canStart(urgency),
      runCycle: (work, signal) => this.#runCycle(work, signal),
      onSettled: (outcome, work) => this.#settled(outcome, work),
    });
    this.#triggers = new SyncTriggers(
      {
        timers: this.#timers,
        online: this.online,
        appActive: this.appActive,
        store: this.#store,
        live: config.live,
        syncInterval: config.syncInterval ?? 60_000,
        writeDebounceMs: config.writeDebounceMs ?? 300,
        cursor: () => this.#status.state.cursor,
      },
      {
        trigger: () => void this.triggerSync(),
        wake: () => void (this.#auth.ok ? this.triggerSync() : this.resume()),
        signalsChanged: () => {
          this.#status.set({ isOnline: this.online.get(), paused: this.#pause() });
          // Offline, a request in flight would only wait for its timeout: cancel it. Whatever
          // the server acknowledged is settled already; coming back online syncs again.
          if (!this.online.get() && this.#loop.busy) {
            this.#cancelled = true;
            this.#loop.cancel();
          }
        },
      },
    );
    claimStoreEngine(this.#store, this.#engine);
    this.#ready = this.#initialize();
    // Surface init failures through the state, not as an unhandled rejection.
    this.#ready.catch((error) => this.#status.recordError(this.errorHandler.categorizeError(error)));
    if (config.autoStart ?? true) this.start();
  }

  async #initialize(): Promise<Engine> {
    const engine = await buildEngine(this.#config, this.#now);
    await this.#status.load(await engine.pull.getCursor());
    return engine;
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

  /**
   * Leaves the auth pause (call it after the user signs in again) and syncs at once; the
   * transport asks the token provider for a fresh token. Without a pause it is `triggerSync()`.
   */
  async resume(): Promise<void> {
    this.#auth.resume();
    await this.#loop.request('full', 'probe');
  }

  /** Stops every trigger and timer and cancels the cycle in flight. Waits for it to end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#triggers.stop();
    this.#status.stop();
    this.#auth.stop();
    if (this.#retryTimer !== null) this.#timers.clearTimeout(this.#retryTimer);
    this.#cancelled = true;
    releaseStoreEngine(this.#store, this.#engine);
    await this.#loop.stop();
  }

  /** State and progress, observable (one view for both). */
  get status(): SyncStatusView {
    return this.#status;
  }

  getState(): SyncState {
    return this.#status.state;
  }

  getProgress(): SyncProgressState {
    return this.#status.progress;
  }

  subscribe(listener: (state: SyncState) => void): () => void {
    return this.#status.subscribe(listener);
  }

  subscribeToProgress(listener: (progress: SyncProgressState) => void): () => void {
    return this.#status.subscribeToProgress(listener);
  }

  /**
   * Asks for a sync: starts one, or joins the one follow-up of the sync running now. Nothing
   * happens offline, in the background, or while paused for auth. Resolves when the cycle it
   * joined has ended; never rejects (failures land in the state).
   */
  async triggerSync(): Promise<void> {
    await this.#loop.request('full', 'auto');
  }

  /**
   * Runs one full push-then-pull sync that starts after this call (after the running one, if
   * any), whatever the signals say. Rejects with the categorised error when it fails (the
   * engine behind `forceSync` and `sync`).
   */
  performFullSync(): Promise<SyncResult> {
    return this.#run('full');
  }

  /**
   * The push phase alone, as a cycle of the one loop. A failed request does not reject: its
   * changes count as `failed` and the categorised error is in `error` (they stay queued).
   */
  async pushChanges(): Promise<PushResult & { error?: SyncError }> {
    const outcome = await this.#forced('push');
    if (outcome.ok) return outcome.value.push;
    const error = this.errorHandler.categorizeError(outcome.error);
    const { tracker } = await this.#ready;
    return failedPush(error, await tracker.getPendingChanges(this.#config.batchSize ?? LIMITS.maxChangesPerPush));
  }

  /** The pull phase alone, as a cycle of the one loop; rejects with the categorised error. */
  async pullChanges(): Promise<PullResult> {
    return (await this.#run('pull')).pull;
  }

  /** A forced cycle of `work`; rejects with the categorised error when it fails. */
  async #run(work: SyncWork): Promise<SyncResult> {
    const outcome = await this.#forced(work);
    if (!outcome.ok) throw this.errorHandler.categorizeError(outcome.error);
    return outcome.value;
  }

  async #forced(work: SyncWork): Promise<CycleOutcome<SyncResult>> {
    const outcome = await this.#loop.request(work, 'forced');
    if (outcome) return outcome;
    throw new SyncError(SyncErrorCode.UNKNOWN_ERROR, 'This SyncManager is stopped; create a new one to sync', {
      retryable: false,
    });
  }

  #canStart(urgency: SyncUrgency): boolean {
    if (this.#stopped) return false;
    if (urgency === 'forced') return true;
    if (!this.online.get() || !this.appActive.get()) return false;
    return urgency === 'probe' || this.#auth.ok;
  }

  /** One cycle of the loop. Never rejects: a failure is an outcome. */
  async #runCycle(work: SyncWork, signal: AbortSignal): Promise<CycleOutcome<SyncResult>> {
    let engine: Engine;
    try {
      engine = await this.#ready;
    } catch (error) {
      return { ok: false, error };
    }
    if (this.#retryTimer !== null) this.#timers.clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#cancelled = this.#stopped;
    this.#status.set({ syncInProgress: true });
    try {
      return work === 'full'
        ? await runFullCycle(this.#cycleContext, engine, signal)
        : await this.#phase(engine, work, signal);
    } finally {
      await this.#status.persist();
      // Also after a failed pull: the push before it may have dead-lettered changes.
      await this.deadLetters.refresh().catch(() => undefined);
    }
  }

  async #phase({ push, pull }: Engine, work: 'push' | 'pull', signal: AbortSignal): Promise<CycleOutcome<SyncResult>> {
    try {
      const value = await runPhase(push, pull, work, signal, this.#status.state.cursor);
      if (work === 'pull') this.#status.set({ cursor: value.pull.cursor });
      return { ok: true, value };
    } catch (error) {
      return { ok: false, error };
    } finally {
      await this.#status.refreshPending();
    }
  }

  /**
   * After a cycle, once the loop has settled it: timers are set here, never mid-cycle, and
   * before `syncInProgress` turns false (a listener that hears it finds the retry scheduled).
   */
  #settled(outcome: CycleOutcome<SyncResult>, work: SyncWork): void {
    if (work === 'full' && !this.#cancelled) {
      this.#failures.cycleSettled(outcome, this.#status.state, this.#status.consecutiveFailures);
    }
    this.#scheduleAfter(outcome, work);
    this.#status.set({ syncInProgress: false });
  }

  #scheduleAfter(outcome: CycleOutcome<SyncResult>, work: SyncWork): void {
    if (outcome.ok || work !== 'full' || this.#cancelled || this.#stopped) return;
    const error = this.errorHandler.categorizeError(outcome.error);
    if (error.code === SyncErrorCode.AUTH_ERROR) {
      this.#auth.failed();
      this.#status.set({ paused: this.#pause() });
    } else if (error.retryable) {
      const delay = this.errorHandler.calculateDelay(this.#status.consecutiveFailures, error);
      this.#retryTimer = this.#timers.setTimeout(() => {
        this.#retryTimer = null;
        void this.triggerSync();
      }, delay);
    }
  }

  #pause(): SyncState['paused'] {
    if (!this.#auth.ok) return 'auth';
    if (!this.online.get()) return 'offline';
    if (!this.appActive.get()) return 'background';
    return null;
  }
}
