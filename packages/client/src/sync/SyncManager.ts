/**
 * The sync engine's owner: it wires the one {@link SyncLoop} (the scheduler every reason to
 * sync goes through), keeps the persisted {@link SyncState} and the progress feed, and decides
 * what a cycle's outcome means (retry timer, auth pause, follow-up).
 *
 * A full cycle, as the progress feed shows it:
 *
 *   idle ─▶ preparing ─▶ uploading ─▶ downloading ─▶ complete ─▶ idle
 *                           │  (a failed push still pulls)│
 *                           └──────────────┴──▶ error ──(retryable: backoff timer)──▶ idle
 *
 * Offline or backgrounded: automatic requests are gated off and the live channel is closed;
 * going offline cancels the cycle in flight; coming back online or to the foreground syncs.
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
import { SyncError, SyncErrorCode } from '../errors.js';
import { SyncErrorHandler } from '../retry/SyncErrorHandler.js';
import { defaultTimers, Signal, type Timers } from '../signals.js';
import type { LocalStore } from '../store/LocalStore.js';
import type { DeadLetter } from '../store/types.js';
import { ChangeTracker } from '../tracking/ChangeTracker.js';
import {
  type ConflictDecision,
  ConflictInbox,
  type ConflictsView,
  type StoredConflict,
  watchConflicts,
} from './ConflictInbox.js';
import { getOrCreateClientId } from './clientId.js';
import { DeadLetterQueue } from './DeadLetterQueue.js';
import type { PullResult } from './PullSyncStrategy.js';
import { PullSyncStrategy } from './PullSyncStrategy.js';
import { type PushResult, PushSyncStrategy } from './PushSyncStrategy.js';
import { emptyPull, emptyPush, failedPush, runSyncCycle } from './runSyncCycle.js';
import { type CycleOutcome, SyncLoop, type SyncUrgency, type SyncWork } from './SyncLoop.js';
import { SyncStatus, type SyncStatusView } from './SyncStatus.js';
import { SyncTriggers } from './SyncTriggers.js';
import type { SyncConfig, SyncProgressState, SyncResult, SyncState } from './syncTypes.js';

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

interface Engine {
  tracker: ChangeTracker;
  push: PushSyncStrategy;
  pull: PullSyncStrategy;
}

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
  /** Changes the server refused for good: list, retry, discard, subscribe. */
  readonly deadLetters: DeadLetterQueue;
  /** Manual conflicts waiting for a decision: list, resolve, subscribe. */
  readonly conflicts: ConflictsView;
  readonly #status: SyncStatus;
  readonly #loop: SyncLoop<SyncResult>;
  readonly #ready: Promise<Engine>;
  readonly #triggers: SyncTriggers;
  /** The cycle in flight was cancelled (stop, or the device went offline): not a failure. */
  #cancelled = false;
  #retryTimer: unknown = null;
  #probeTimer: unknown = null;
  #auth: 'ok' | 'probing' | 'paused' = 'ok';
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
        wake: () => void (this.#auth === 'ok' ? this.triggerSync() : this.resume()),
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
    this.deadLetters = new DeadLetterQueue(this.#store, { onRetried: () => void this.triggerSync() });
    let inbox: Promise<ConflictInbox> | undefined;
    const openInbox = () =>
      (inbox ??= this.ready().then(
        (tracker) => new ConflictInbox(tracker, { onResolved: () => void this.triggerSync() }),
      ));
    this.conflicts = {
      list: async () => (await openInbox()).list(),
      resolve: async (id, decision) => (await openInbox()).resolve(id, decision),
      subscribe: (listener) => watchConflicts(this.#store, listener),
    };
    this.#ready = this.#initialize();
    // Surface init failures through the state, not as an unhandled rejection.
    this.#ready.catch((error) => this.#status.recordError(this.errorHandler.categorizeError(error)));
    if (config.autoStart ?? true) this.start();
  }

  async #initialize(): Promise<Engine> {
    const config = this.#config;
    const tracker =
      config.changeTracker ??
      ChangeTracker.of(this.#store, config.clientId ?? (await getOrCreateClientId(this.#store)));
    const resolver = config.conflictResolver as Partial<ConflictResolver> | undefined;
    // On connect the server says which entity types it declares, its limits and the conflict
    // strategies it arbitrates with: writes are checked and pushes sized by them from then on.
    const api = withServerConfig(config.remoteAPI, async (serverConfig) => {
      resolver?.adoptServerStrategies?.(serverConfig.conflictStrategies);
      await tracker.rules.learn(serverConfig, this.#store.closed ? undefined : this.#store.kv);
    });
    const withResolver = config.conflictResolver ? { conflictResolver: config.conflictResolver } : {};
    const push = new PushSyncStrategy(api, tracker, {
      batchSize: config.batchSize ?? LIMITS.maxChangesPerPush,
      now: this.#now,
      ...withResolver,
    });
    const pull = new PullSyncStrategy(api, tracker, {
      pageSize: config.pageSize ?? LIMITS.maxPullLimit,
      ...(config.pullTypes ? { types: config.pullTypes } : {}),
      ...withResolver,
    });
    await this.#status.load(await pull.getCursor());
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

  /**
   * Leaves the auth pause (call it after the user signs in again) and syncs at once; the
   * transport asks the token provider for a fresh token. Without a pause it is `triggerSync()`.
   */
  async resume(): Promise<void> {
    if (this.#auth !== 'ok') this.#auth = 'probing';
    await this.#loop.request('full', 'probe');
  }

  /** Stops every trigger and timer and cancels the cycle in flight. Waits for it to end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#triggers.stop();
    this.#status.stop();
    for (const timer of [this.#retryTimer, this.#probeTimer]) if (timer !== null) this.#timers.clearTimeout(timer);
    this.#cancelled = true;
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
   * seed's `performFullSync`, behind `forceSync` and `sync`).
   */
  async performFullSync(): Promise<SyncResult> {
    const outcome = await this.#forced('full');
    if (!outcome.ok) throw this.errorHandler.categorizeError(outcome.error);
    return outcome.value;
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
    const outcome = await this.#forced('pull');
    if (!outcome.ok) throw this.errorHandler.categorizeError(outcome.error);
    return outcome.value.pull;
  }

  /** Changes the server rejected for good, oldest first (`deadLetters.list()`). */
  listDeadLetters(): Promise<DeadLetter[]> {
    return this.deadLetters.list();
  }

  /** Sends a dead change again (same id) and syncs; false when there is no such dead letter. */
  retryDeadLetter(changeId: string): Promise<boolean> {
    return this.deadLetters.retry(changeId);
  }

  /** Forgets a dead change; false when there is no such dead letter. */
  discardDeadLetter(changeId: string): Promise<boolean> {
    return this.deadLetters.discard(changeId);
  }

  /** Hears the dead-letter list now and whenever it changes; returns unsubscribe. */
  subscribeToDeadLetters(listener: (deadLetters: DeadLetter[]) => void): () => void {
    return this.deadLetters.subscribe(listener);
  }

  /** Manual conflicts waiting for a decision (persisted: they survive a restart), oldest first. */
  listConflicts(): Promise<StoredConflict[]> {
    return this.conflicts.list();
  }

  /**
   * Decides a parked conflict: it becomes one new change that syncs, the entity's held
   * changes are released, and a sync is triggered. An unknown id throws and changes nothing.
   */
  resolveConflict(id: string, resolution: ConflictDecision): Promise<void> {
    return this.conflicts.resolve(id, resolution);
  }

  /** Calls `listener` after every change of the conflict inbox; returns the unsubscribe function. */
  subscribeToConflicts(listener: () => void): () => void {
    return this.conflicts.subscribe(listener);
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
    return urgency === 'probe' || this.#auth === 'ok';
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
      return work === 'full' ? await this.#fullCycle(engine, signal) : await this.#phase(engine, work, signal);
    } finally {
      await this.#status.persist();
      // Also after a failed pull: the push before it may have dead-lettered changes.
      await this.deadLetters.refresh().catch(() => undefined);
    }
  }

  async #fullCycle({ push, pull }: Engine, signal: AbortSignal): Promise<CycleOutcome<SyncResult>> {
    this.#status.progressTo({ phase: 'preparing', totalItems: 0, processedItems: 0 });
    try {
      const result = await runSyncCycle(push, pull, {
        signal,
        onProgress: (progress) => this.#status.progressTo(progress),
        afterPush: () => this.#status.refreshPending(),
      });
      const pending = await this.#store.countPending();
      // Conflicts resolved during the pull may have queued changes: push them in a follow-up.
      if (result.pull.conflicts > 0 && pending > 0) void this.#loop.request('full', 'auto');
      // Any sync that gets through proves the token works again.
      this.#auth = 'ok';
      this.#status.completed(result, pending, this.#pause());
      return { ok: true, value: result };
    } catch (caught) {
      // A failed push does not skip the pull: the cursor may have moved.
      if (!this.#store.closed) {
        this.#status.set({ cursor: await pull.getCursor().catch(() => this.#status.state.cursor) });
      }
      const error = this.errorHandler.categorizeError(caught);
      // Cancelled by stop() or by going offline: not a failure worth showing or retrying.
      if (this.#cancelled) this.#status.progressTo({ phase: 'idle', totalItems: 0, processedItems: 0 });
      else this.#status.recordError(error);
      return { ok: false, error };
    }
  }

  async #phase({ push, pull }: Engine, work: 'push' | 'pull', signal: AbortSignal): Promise<CycleOutcome<SyncResult>> {
    try {
      if (work === 'push')
        return {
          ok: true,
          value: { push: await push.pushChanges({ signal }), pull: emptyPull(this.#status.state.cursor) },
        };
      const result = await pull.pullChanges({ signal });
      this.#status.set({ cursor: result.cursor });
      return { ok: true, value: { push: emptyPush(), pull: result } };
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
    this.#scheduleAfter(outcome, work);
    this.#status.set({ syncInProgress: false });
  }

  #scheduleAfter(outcome: CycleOutcome<SyncResult>, work: SyncWork): void {
    if (outcome.ok || work !== 'full' || this.#cancelled || this.#stopped) return;
    const error = this.errorHandler.categorizeError(outcome.error);
    if (error.code === SyncErrorCode.AUTH_ERROR) this.#onAuthError();
    else if (error.retryable) {
      const delay = this.errorHandler.calculateDelay(this.#status.consecutiveFailures, error);
      this.#retryTimer = this.#timers.setTimeout(() => {
        this.#retryTimer = null;
        void this.triggerSync();
      }, delay);
    }
  }

  /** First auth failure: one probe at once (with a refreshed token); a failed probe pauses. */
  #onAuthError(): void {
    if (this.#auth === 'ok') {
      this.#auth = 'probing';
      this.#probeTimer = this.#timers.setTimeout(() => {
        this.#probeTimer = null;
        if (this.#auth === 'probing') void this.#loop.request('full', 'probe');
      }, 0);
    } else {
      this.#auth = 'paused';
    }
    this.#status.set({ paused: this.#pause() });
  }

  #pause(): SyncState['paused'] {
    if (this.#auth !== 'ok') return 'auth';
    if (!this.online.get()) return 'offline';
    if (!this.appActive.get()) return 'background';
    return null;
  }
}
