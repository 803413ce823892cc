import { abortReason } from './abort.js';

/** Waits `ms` milliseconds; rejects with the signal's reason as soon as `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/**
 * The real {@link Sleep}, on `setTimeout`. Engines take a `Sleep` so tests and the simulator can
 * pass a virtual one and never wait.
 *
 * @example
 * const controller = new AbortController();
 * const waiting = defaultSleep(60_000, controller.signal);
 * controller.abort(); // `waiting` rejects now, not in a minute
 */
export const defaultSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      if (signal) reject(abortReason(signal));
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
