// node:timers, not the global: a test that fakes timers must not stop the server's commits.
import { setImmediate } from 'node:timers';

/** One item's outcome inside a group: its value, or the error that undid only its own part. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** Bounds of a {@link GroupCommit}'s groups. */
export interface GroupCommitOptions<T> {
  /** Most items in one group (default {@link DEFAULT_MAX_GROUP_ITEMS}). */
  maxItems?: number;
  /** An item's weight (a push's change count); default 1. */
  weight?: (item: T) => number;
  /**
   * Most weight in one group (default unbounded). An item heavier than this alone still goes,
   * in a group of its own.
   */
  maxWeight?: number;
  /**
   * Runs a flush later; default `setImmediate` (the event loop's check phase). A deterministic
   * simulation holds flushes while it hands a burst of requests over, so a group's make-up does
   * not depend on how fast real threads answered.
   */
  schedule?: (flush: () => void) => void;
}

/** Default {@link GroupCommitOptions.maxItems}. */
export const DEFAULT_MAX_GROUP_ITEMS = 64;

interface Waiting<T, R> {
  item: T;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for a synchronous database (better-sqlite3): items enqueued while the event loop
 * was busy — typically pushes of many users whose requests arrived during the previous commit's
 * fsync — are committed together, in ONE transaction and one durable commit, in the order they
 * were enqueued. Each item's promise settles only after that commit returned, so nothing is
 * answered before it is durable.
 *
 * ```
 *  enqueue ──▶ waiting ──(check phase: after the loop's pending I/O ran)──▶ group ──commit──▶ settle each
 *                 ▲                                                            │
 *                 └──────────── more than one group's worth waits: next turn ◀─┘
 * ```
 *
 * No timer delays a commit: the flush runs in the event loop's check phase (`setImmediate`),
 * right after the poll phase handed over every request that had arrived. A lone push is
 * committed one loop turn after it was enqueued; under load the groups grow by themselves,
 * because more requests arrive while each commit blocks the loop.
 *
 * `commit` runs the group and answers one {@link Settled} per item, in order: an item whose own
 * work failed is rejected alone (its part undone, e.g. by a savepoint). If `commit` throws, the
 * whole group failed (nothing was committed) and every item is rejected with that error.
 */
export class GroupCommit<T, R> {
  readonly #commit: (group: readonly T[]) => Settled<R>[];
  readonly #maxItems: number;
  readonly #maxWeight: number;
  readonly #weight: (item: T) => number;
  readonly #waiting: Waiting<T, R>[] = [];
  readonly #listeners = new Set<(size: number) => void>();
  readonly #later: (flush: () => void) => void;
  #scheduled = false;

  constructor(commit: (group: readonly T[]) => Settled<R>[], options: GroupCommitOptions<T> = {}) {
    this.#commit = commit;
    this.#maxItems = Math.max(1, Math.floor(options.maxItems ?? DEFAULT_MAX_GROUP_ITEMS));
    this.#maxWeight = options.maxWeight ?? Number.POSITIVE_INFINITY;
    this.#weight = options.weight ?? (() => 1);
    this.#later = options.schedule ?? setImmediate;
  }

  /** Items waiting for the next group. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Queues `item` for the next group; resolves with its value after the group's commit. */
  enqueue(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  /**
   * Calls `listener(size)` after every committed group with its number of items (a listener
   * that throws is ignored). Returns unsubscribe.
   */
  onGroup(listener: (size: number) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Commits everything waiting now, group after group (before the database closes). */
  drain(): void {
    while (this.#waiting.length > 0) this.#flushOne();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#later(() => {
      this.#scheduled = false;
      this.#flushOne();
      // A bounded group left some behind: they go next turn, after this group's answers.
      if (this.#waiting.length > 0) this.#schedule();
    });
  }

  #flushOne(): void {
    const group = this.#take();
    if (group.length === 0) return;
    let settled: Settled<R>[];
    try {
      settled = this.#commit(group.map((entry) => entry.item));
    } catch (error) {
      for (const entry of group) entry.reject(error);
      return;
    }
    for (const listener of this.#listeners) {
      try {
        listener(group.length);
      } catch {
        // A metric must never turn a committed group into errors.
      }
    }
    group.forEach((entry, index) => {
      const outcome = settled[index];
      if (outcome === undefined) entry.reject(new Error(`Group commit answered ${settled.length} of ${group.length}`));
      else if (outcome.ok) entry.resolve(outcome.value);
      else entry.reject(outcome.error);
    });
  }

  /** The next group: at least one item, then as many as the bounds allow, in order. */
  #take(): Waiting<T, R>[] {
    let weight = 0;
    let count = 0;
    for (const entry of this.#waiting) {
      const next = this.#weight(entry.item);
      if (count > 0 && (count >= this.#maxItems || weight + next > this.#maxWeight)) break;
      weight += next;
      count += 1;
    }
    return this.#waiting.splice(0, count);
  }
}
