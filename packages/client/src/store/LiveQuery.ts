import { SyncError, toError } from '../errors.js';
import type { StoreChangeEvent } from './types.js';

/** Where a {@link LiveQuery} hears about committed writes (a `LocalStore`). */
export interface ChangeSource {
  subscribe(listener: (event: StoreChangeEvent) => void): () => void;
}

/** The entity types a query reads; `'*'` when it cannot tell (an SQL read of the raw table). */
export type ReadSet = ReadonlySet<string> | '*';

/**
 * A query that can run once or be watched. Watching starts with the first subscriber and stops
 * with the last, so a query nobody listens to costs nothing. While watched it re-runs only
 * after a committed write (local or pulled) touched a type it reads, coalesces writes that
 * land while it runs, and skips delivery when the result equals the last one delivered.
 *
 * @example
 * const open = todos.query({ where: { completed: false }, orderBy: ['dueAt', 'title'], limit: 50 });
 * const stop = open.subscribe((rows) => render(rows));
 */
export class LiveQuery<R> {
  /** Identifies the query by value (type, filter, order, paging, or SQL text and parameters). */
  readonly key: string;
  readonly #source: ChangeSource;
  readonly #reads: ReadSet;
  readonly #run: () => Promise<R>;
  readonly #listeners = new Set<{ onResult: (result: R) => void; onError?: (error: SyncError) => void }>();
  #stopWatching: (() => void) | null = null;
  #running = false;
  #stale = false;
  #last: { result: R; json: string } | undefined;
  #generation = 0;

  constructor(source: ChangeSource, reads: ReadSet, run: () => Promise<R>, key: string) {
    this.#source = source;
    this.#reads = reads;
    this.#run = run;
    this.key = key;
  }

  /** Where it hears about writes (its store): with {@link key}, what makes two queries the same. */
  get source(): ChangeSource {
    return this.#source;
  }

  /** The entity types whose writes re-run this query. */
  get reads(): ReadSet {
    return this.#reads;
  }

  /** Runs the query once. */
  run(): Promise<R> {
    return this.#run();
  }

  /**
   * Calls `onResult` with the current result, then after every committed write that changed it.
   * `onError` hears a failed run (a closed store, a bad SQL read); without it failures are
   * dropped and the next write tries again. Returns the unsubscribe function.
   */
  subscribe(onResult: (result: R) => void, onError?: (error: SyncError) => void): () => void {
    const listener = onError ? { onResult, onError } : { onResult };
    this.#listeners.add(listener);
    if (this.#stopWatching === null) {
      this.#stopWatching = this.#source.subscribe((event) => {
        if (this.#touches(event)) this.#refresh();
      });
      this.#last = undefined;
      this.#refresh();
    } else if (this.#last !== undefined) {
      const { result } = this.#last;
      queueMicrotask(() => {
        if (this.#listeners.has(listener)) listener.onResult(result);
      });
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0 && this.#stopWatching) {
        this.#stopWatching();
        this.#stopWatching = null;
        this.#generation++; // a run still in flight delivers to nobody
      }
    };
  }

  #touches(event: StoreChangeEvent): boolean {
    if (this.#reads === '*') return event.entityTypes.size > 0;
    for (const type of event.entityTypes) if (this.#reads.has(type)) return true;
    return false;
  }

  #refresh(): void {
    if (this.#running) {
      // A write landed while running: run once more afterwards, however many writes it was.
      this.#stale = true;
      return;
    }
    this.#running = true;
    this.#stale = false;
    const generation = this.#generation;
    this.#run()
      .then(
        (result) => {
          if (generation !== this.#generation) return;
          const json = JSON.stringify(result);
          if (this.#last !== undefined && this.#last.json === json) return;
          this.#last = { result, json };
          for (const listener of [...this.#listeners]) deliver(() => listener.onResult(result));
        },
        (cause: unknown) => {
          if (generation !== this.#generation) return;
          const error =
            cause instanceof SyncError
              ? cause
              : new SyncError('UNKNOWN_ERROR', `A live query failed: ${toError(cause).message}`, { cause });
          for (const listener of [...this.#listeners]) deliver(() => listener.onError?.(error));
        },
      )
      .finally(() => {
        this.#running = false;
        if (this.#stale && this.#stopWatching !== null) this.#refresh();
      });
  }
}

function deliver(call: () => void): void {
  try {
    call();
  } catch {
    // A subscriber's bug must not stop the others from hearing the result.
  }
}
