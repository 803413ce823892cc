/**
 * The one subscription primitive under everything observable in the engine: `Signal`, the
 * store's commit events, the dead-letter list, the conflict inbox, the live channel.
 * `subscribe` returns the unsubscribe function; a listener added or removed during an emit
 * does not change who hears that emit.
 *
 * @example
 * const changes = new Emitter<string>();
 * const stop = changes.subscribe((id) => console.log(id));
 * changes.emit('t1');
 * stop();
 */
export class Emitter<T> {
  readonly #listeners = new Set<(value: T) => void>();
  readonly #isolate: boolean;

  /**
   * With `isolateErrors`, a listener that throws is skipped over: for events about something
   * already done (a committed write), which a subscriber's bug must not appear to undo. Without
   * it the error reaches the emitter's caller and the listeners after it are not called.
   */
  constructor(options: { isolateErrors?: boolean } = {}) {
    this.#isolate = options.isolateErrors ?? false;
  }

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: (value: T) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Whether `listener` is still subscribed (an async first delivery checks before calling it). */
  has(listener: (value: T) => void): boolean {
    return this.#listeners.has(listener);
  }

  /** How many listeners there are. */
  get size(): number {
    return this.#listeners.size;
  }

  /** Calls every listener with `value`, in subscription order. */
  emit(value: T): void {
    for (const listener of [...this.#listeners]) {
      if (!this.#isolate) {
        listener(value);
        continue;
      }
      try {
        listener(value);
      } catch {
        // See `isolateErrors`: the event is about something that already happened.
      }
    }
  }
}
