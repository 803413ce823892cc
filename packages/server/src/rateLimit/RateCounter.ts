/**
 * Counting for rate limits: a fixed-window hit counter behind one small interface, so the
 * limiter does not care where the counts live. SQLite deployments run one process and count
 * in memory ({@link MemoryRateCounter}); PostgreSQL deployments run many processes and count
 * in a shared table (`PostgresRateCounter`), so a user cannot multiply their allowance by
 * spreading requests over processes.
 */

/** A fixed-window hit counter shared by everything that enforces one limit. */
export interface RateCounter {
  /**
   * Adds one hit to `key` in the window that starts at `windowStart` (ms, a multiple of
   * `windowMs`) and returns the window's total including this hit. At most one round trip
   * to shared storage. Windows older than the previous one may be forgotten at any time.
   */
  hit(key: string, windowStart: number, windowMs: number): Promise<number>;
}

interface Window {
  start: number;
  hits: number;
}

/**
 * The in-process {@link RateCounter}: right for one server process (SQLite). Memory stays
 * bounded by the keys seen in the current window: older windows are swept once per window.
 *
 * @example
 * const counter = new MemoryRateCounter();
 * await counter.hit('push:alice', 0, 60_000); // 1
 */
export class MemoryRateCounter implements RateCounter {
  readonly #windows = new Map<string, Window>();
  #sweptBefore = Number.NEGATIVE_INFINITY;

  hit(key: string, windowStart: number, windowMs: number): Promise<number> {
    if (windowStart > this.#sweptBefore) this.#sweep(windowStart, windowMs);
    let window = this.#windows.get(key);
    if (window === undefined || window.start < windowStart) {
      window = { start: windowStart, hits: 0 };
      this.#windows.set(key, window);
    }
    // A request stamped with an older window (a slow one racing the boundary) counts in the newer.
    window.hits += 1;
    return Promise.resolve(window.hits);
  }

  /** Keys with a live window; for tests and metrics. */
  get size(): number {
    return this.#windows.size;
  }

  #sweep(windowStart: number, windowMs: number): void {
    this.#sweptBefore = windowStart;
    // Keeps the previous window too, like the PostgreSQL counter, so both forget alike.
    const keepFrom = windowStart - windowMs;
    for (const [key, window] of this.#windows) if (window.start < keepFrom) this.#windows.delete(key);
  }
}
