import type { Timers } from '../signals.js';

interface Pending {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * Virtual {@link Timers} for tests: nothing fires until {@link ManualTimers.advance} moves the
 * virtual clock past it, so a test controls every debounce, backoff and interval without
 * sleeping.
 *
 * @example
 * const timers = new ManualTimers();
 * const manager = new SyncManager({ localStore, remoteAPI, timers });
 * timers.advance(60_000); // the interval sync is due now
 */
export class ManualTimers implements Timers {
  #now = 0;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();

  /** Virtual time in ms since the timers were made. */
  get now(): number {
    return this.#now;
  }

  /** Delays of the timers still pending, soonest first (relative to now). */
  get delays(): number[] {
    return [...this.#pending.values()].sort((a, b) => a.at - b.at).map((timer) => timer.at - this.#now);
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#nextId++;
    this.#pending.set(id, { id, at: this.#now + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#pending.delete(handle as number);
  }

  /** Moves virtual time forward by `ms`, firing due timers in order (bounded: at most 10 000). */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (let fired = 0; fired < 10_000; fired++) {
      const next = [...this.#pending.values()].sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!next || next.at > until) break;
      this.#pending.delete(next.id);
      this.#now = next.at;
      next.fn();
    }
    this.#now = until;
  }
}
