import type pg from 'pg';
import type { RateCounter } from './RateCounter.js';

// One statement, one round trip: insert the window's row or bump it, and read the total back.
// Concurrent hits on one key serialize on the row; each sees a distinct total.
const HIT_SQL = `INSERT INTO ferry_rate_windows (bucket, window_start, hits) VALUES ($1, $2, 1)
  ON CONFLICT (bucket, window_start) DO UPDATE SET hits = ferry_rate_windows.hits + 1
  RETURNING hits`;

const SWEEP_SQL = 'DELETE FROM ferry_rate_windows WHERE window_start < $1';

/** Options of {@link PostgresRateCounter}. */
export interface PostgresRateCounterOptions {
  /** A failed sweep of old windows (default: ignored; the next window sweeps again). */
  onError?: (error: unknown) => void;
}

/**
 * The {@link RateCounter} shared by every server process on one PostgreSQL database: one row
 * per (key, window) in the unlogged table `ferry_rate_windows` (created by the storage
 * migrations; unlogged because counts need not survive a database crash, and it spares the WAL).
 * Old windows are deleted lazily, once per window per process, off the request path.
 *
 * @example
 * const counter = new PostgresRateCounter(pool);
 * const hits = await counter.hit('push:alice', windowStart, 60_000);
 */
export class PostgresRateCounter implements RateCounter {
  readonly #pool: Pick<pg.Pool, 'query'>;
  readonly #onError: (error: unknown) => void;
  #sweptBefore = Number.NEGATIVE_INFINITY;

  constructor(pool: Pick<pg.Pool, 'query'>, options: PostgresRateCounterOptions = {}) {
    this.#pool = pool;
    this.#onError = options.onError ?? (() => undefined);
  }

  async hit(key: string, windowStart: number, windowMs: number): Promise<number> {
    if (windowStart > this.#sweptBefore) {
      this.#sweptBefore = windowStart;
      // Not awaited: the request does not wait for housekeeping. The previous window is kept
      // so that a process whose clock lags a little still finds its row.
      this.#pool.query(SWEEP_SQL, [windowStart - windowMs]).catch(this.#onError);
    }
    const { rows } = await this.#pool.query<{ hits: number }>(HIT_SQL, [key, windowStart]);
    const hits = rows[0]?.hits;
    if (hits === undefined) throw new Error('Rate counter upsert returned no row');
    return hits;
  }
}
