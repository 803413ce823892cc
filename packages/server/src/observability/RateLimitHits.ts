import type { RateKind } from '../rateLimit/createRateLimiter.js';

/** One user's refused requests, as the inspector lists them. */
export interface RateLimitEntry {
  user: string;
  kind: RateKind;
  /** Refusals since this process started (or since the entry was last evicted). */
  count: number;
  firstAt: number;
  lastAt: number;
}

/** Users kept at most; the least recently limited goes first. */
const MAX_ENTRIES = 1_000;

/**
 * Who hit a rate limit on this process, and how often: a runaway client shows up as one user
 * with a count that keeps climbing, limits set too low as many users each refused a little.
 */
export class RateLimitHits {
  // Map order is insertion order; an entry is re-inserted on each hit, so the first is the stalest.
  readonly #entries = new Map<string, RateLimitEntry>();

  /** Counts one refused request of `user`. */
  hit(user: string, kind: RateKind, at: number): void {
    const key = `${kind}\u0000${user}`;
    const entry = this.#entries.get(key) ?? { user, kind, count: 0, firstAt: at, lastAt: at };
    entry.count += 1;
    entry.lastAt = at;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > MAX_ENTRIES) {
      const stalest = this.#entries.keys().next().value;
      if (stalest !== undefined) this.#entries.delete(stalest);
    }
  }

  /** Every entry, most recently limited first. */
  list(): RateLimitEntry[] {
    return [...this.#entries.values()].reverse().map((entry) => ({ ...entry }));
  }
}
