import { Emitter } from './util/Emitter.js';

/**
 * Platform facts the engine listens to but cannot know: is there a network, is the app in
 * the foreground. The core owns them; a platform package plugs its sources in (NetInfo into
 * `online`, AppState into `appActive`), the way TanStack Query's onlineManager works.
 */
export class Signal<T> {
  #value: T;
  readonly #changes = new Emitter<T>();

  constructor(initial: T) {
    this.#value = initial;
  }

  get(): T {
    return this.#value;
  }

  /** Sets the value; listeners hear only real changes. */
  set(value: T): void {
    if (Object.is(value, this.#value)) return;
    this.#value = value;
    this.#changes.emit(value);
  }

  /** Hears every real change of the value; returns the unsubscribe function. */
  subscribe(listener: (value: T) => void): () => void {
    return this.#changes.subscribe(listener);
  }
}

/** Timer functions, injectable so tests and the simulator run on virtual time. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const defaultTimers: Timers = {
  setTimeout: (fn, ms) => {
    const handle = setTimeout(fn, ms);
    // Node keeps the process alive for a pending timer; a sync schedule must not.
    (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
