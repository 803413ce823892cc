/**
 * The one scheduler of the engine. Every reason to sync — a local write, the network or the
 * foreground coming back, the interval, a server poke, a retry or auth-probe timer, a
 * background task, and every manual call (`triggerSync`, `sync`, `forceSync`,
 * `performFullSync`, `pushChanges`, `pullChanges`, `resume`) — is a {@link SyncRequest} to this
 * loop. At most one cycle runs; requests made while it runs coalesce into exactly one
 * follow-up cycle, which starts when the running one ends. The loop owns the running cycle's
 * cancellation (one AbortController); `cancel()` and `stop()` are the only ways to abort it.
 *
 *                 request                         request (coalesce into `next`)
 *     ┌────────▶ idle ───────────▶ running ◀────────────┐
 *     │           │  gated:         │                    │
 *     │           │  resolve(null)  │ cycle ends         │
 *     │           ▼                 ▼                    │
 *     │         idle ◀── no next ─ settle ── next ───────┘ (next cycle; an `auto` next after a
 *     │                             │                       failed cycle is dropped: the retry
 *     └──── stop(): cancel, ───────▶ stopped                timer is its follow-up)
 *           resolve waiters         (every request resolves null at once)
 *
 * Gates, checked when a cycle is about to start (a request that finds the loop busy waits for
 * the follow-up, and the gate is checked then):
 *
 *   auto    runs only online, in the foreground, and not paused for auth
 *   probe   the auth probe: online and in the foreground (the one attempt a pause allows)
 *   forced  always (a manual sync tries even offline and reports why it failed)
 *
 * A follow-up is as strong as the strongest request in it, and does the union of their work
 * (`full` covers `push` and `pull`).
 */

/** Why a cycle is asked for; decides which gates apply. */
export type SyncUrgency = 'auto' | 'probe' | 'forced';

/** What a cycle does: both phases (a sync), or one of them alone. */
export type SyncWork = 'full' | 'push' | 'pull';

/** What a cycle ended with: its result, or the error that ended it. Never both. */
export type CycleOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** The parts of the engine the loop drives. */
export interface SyncLoopHooks<R> {
  /** Runs one cycle; never rejects (a failure is an outcome). */
  runCycle(work: SyncWork, signal: AbortSignal): Promise<CycleOutcome<R>>;
  /** May a cycle of this urgency start now? */
  canStart(urgency: SyncUrgency): boolean;
  /** Runs after every cycle, once the loop has settled it (timers are set here, never mid-cycle). */
  onSettled?(outcome: CycleOutcome<R>, work: SyncWork): void;
  /** `true` while a cycle runs, `false` when the loop goes idle. */
  onBusyChange?(busy: boolean): void;
}

interface Pending<R> {
  work: SyncWork | null;
  urgency: SyncUrgency;
  waiters: Array<(outcome: CycleOutcome<R> | null) => void>;
}

const STRENGTH: Readonly<Record<SyncUrgency, number>> = { auto: 0, probe: 1, forced: 2 };

/**
 * Runs one sync cycle at a time and coalesces every request made meanwhile into one follow-up.
 *
 * @example
 * const loop = new SyncLoop({ runCycle, canStart: () => online.get() });
 * const outcome = await loop.request('full', 'forced'); // null when gated or stopped
 */
export class SyncLoop<R> {
  readonly #hooks: SyncLoopHooks<R>;
  #next: Pending<R> | null = null;
  /** Set and cleared synchronously with the decision to run or end, so no request falls between. */
  #busy = false;
  #draining: Promise<void> = Promise.resolve();
  #abort: AbortController | null = null;
  #stopped = false;

  constructor(hooks: SyncLoopHooks<R>) {
    this.#hooks = hooks;
  }

  /** True while a cycle runs (or the loop is about to start the next one). */
  get busy(): boolean {
    return this.#busy;
  }

  /**
   * Asks for a cycle. Resolves with the outcome of the cycle that serves this request — the
   * one that starts next, never one already running (it may have passed the write this request
   * is about) — or with null when the request was gated off, dropped after a failed cycle, or
   * the loop stopped.
   */
  request(work: SyncWork, urgency: SyncUrgency): Promise<CycleOutcome<R> | null> {
    if (this.#stopped) return Promise.resolve(null);
    if (!this.#busy && !this.#hooks.canStart(urgency)) return Promise.resolve(null);
    this.#next ??= { work: null, urgency, waiters: [] };
    const next = this.#next;
    next.work = union(next.work, work);
    if (STRENGTH[urgency] > STRENGTH[next.urgency]) next.urgency = urgency;
    const outcome = new Promise<CycleOutcome<R> | null>((resolve) => next.waiters.push(resolve));
    if (!this.#busy) {
      this.#busy = true;
      this.#hooks.onBusyChange?.(true);
      this.#draining = this.#drain();
    }
    return outcome;
  }

  /** Aborts the running cycle, if any (going offline, say). Its waiters get its outcome. */
  cancel(): void {
    this.#abort?.abort();
  }

  /** Stops for good: aborts the running cycle, drops the follow-up, waits for the loop to end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.cancel();
    await this.#draining;
  }

  /** Resolves when the loop is idle (nothing running, nothing queued). */
  async idle(): Promise<void> {
    while (this.#busy) await this.#draining;
  }

  async #drain(): Promise<void> {
    let lastFailed = false;
    for (let next = this.#take(); next; next = this.#take()) {
      const { work, urgency, waiters } = next;
      // An automatic follow-up of a failed cycle waits for the retry timer the failure set.
      const dropped = lastFailed && urgency === 'auto';
      if (this.#stopped || dropped || work === null || !this.#hooks.canStart(urgency)) {
        for (const resolve of waiters) resolve(null);
        continue;
      }
      const abort = new AbortController();
      this.#abort = abort;
      let outcome: CycleOutcome<R>;
      try {
        outcome = await this.#hooks.runCycle(work, abort.signal);
      } catch (error) {
        outcome = { ok: false, error };
      } finally {
        this.#abort = null;
      }
      lastFailed = !outcome.ok;
      for (const resolve of waiters) resolve(outcome);
      this.#hooks.onSettled?.(outcome, work);
    }
  }

  /** The queued follow-up, or null, and then the loop is idle (in the same step). */
  #take(): Pending<R> | null {
    const next = this.#next;
    this.#next = null;
    if (!next) {
      this.#busy = false;
      this.#hooks.onBusyChange?.(false);
    }
    return next;
  }
}

function union(a: SyncWork | null, b: SyncWork): SyncWork {
  if (a === null || a === b) return b;
  return 'full';
}
