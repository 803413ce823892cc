/**
 * Virtual time: an ordered queue of events (engine timers, network deliveries) that the
 * simulator runs one by one. Nothing ever sleeps; time jumps to the next event.
 */

/** The wall clock the virtual time starts at (ms since the epoch). */
export const T0 = 1_764_000_000_000;

interface ClockEvent {
  at: number;
  order: number;
  owner: string;
  label: string;
  run: () => void | Promise<void>;
}

/** Lets every continuation that is ready run (promise jobs and immediates), without real delays. */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Thrown when the event budget of a run is spent: something loops without end. */
export class EventBudgetError extends Error {
  override readonly name = 'EventBudgetError';
}

/**
 * The event queue. `order` breaks ties, so events at the same instant run in the order
 * they were scheduled: deterministic for a given seed.
 */
export class VirtualClock {
  /** Virtual ms since {@link T0}. */
  now = 0;
  /** Events run so far. */
  eventsRun = 0;
  readonly #events = new Map<number, ClockEvent>();
  #order = 0;
  readonly #budget: number;

  constructor(budget: number) {
    this.#budget = budget;
  }

  /** Wall-clock time as the server sees it. */
  wallNow(): number {
    return T0 + this.now;
  }

  /** Schedules `run` after `delay` virtual ms; returns a handle for {@link cancel}. */
  schedule(delay: number, owner: string, label: string, run: ClockEvent['run']): number {
    const id = ++this.#order;
    // Real timers fire on whole milliseconds; backoff jitter would otherwise make time fractional.
    this.#events.set(id, { at: this.now + Math.max(0, Math.ceil(delay)), order: id, owner, label, run });
    return id;
  }

  cancel(id: unknown): void {
    this.#events.delete(id as number);
  }

  /** Drops every event of `owner` (a killed app's timers die with it). */
  cancelOwner(owner: string): void {
    for (const [id, event] of this.#events) if (event.owner === owner) this.#events.delete(id);
  }

  get pending(): number {
    return this.#events.size;
  }

  #next(limit: number): ClockEvent | undefined {
    let best: ClockEvent | undefined;
    for (const event of this.#events.values()) {
      if (event.at > limit) continue;
      if (!best || event.at < best.at || (event.at === best.at && event.order < best.order)) best = event;
    }
    return best;
  }

  /** Runs the earliest event due by `limit`; false when there is none. */
  async step(limit = Number.POSITIVE_INFINITY): Promise<boolean> {
    const event = this.#next(limit);
    if (!event) return false;
    this.#events.delete(event.order);
    this.now = Math.max(this.now, event.at);
    if (++this.eventsRun > this.#budget) {
      throw new EventBudgetError(`More than ${this.#budget} events: a sync loop spins (last: ${event.label})`);
    }
    await event.run();
    await settle();
    return true;
  }

  /** Runs every event due within `ms`, then moves the clock to the end of the span. */
  async advance(ms: number): Promise<void> {
    const target = this.now + ms;
    while (await this.step(target)) {}
    this.now = Math.max(this.now, target);
  }

  /**
   * Runs events until `promise` settles. Resolves to its value; rejects with its error, or
   * with a "stuck" error when the queue runs dry (or past `maxMs`) and it is still pending.
   */
  async drive<T>(promise: Promise<T>, what: string, maxMs = 3_600_000): Promise<T> {
    const state: { done: boolean; value?: T; error?: unknown; failed?: boolean } = { done: false };
    promise.then(
      (value) => {
        state.done = true;
        state.value = value;
      },
      (error: unknown) => {
        state.done = true;
        state.failed = true;
        state.error = error;
      },
    );
    await settle();
    const deadline = this.now + maxMs;
    while (!state.done && (await this.step(deadline))) {}
    if (!state.done) throw new Error(`${what} is stuck: still pending with no event left to run`);
    if (state.failed) throw state.error;
    return state.value as T;
  }
}
