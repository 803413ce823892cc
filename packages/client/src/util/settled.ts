/** The outcome of a promise, as a value. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * A promise that never rejects: a request started ahead of time (a pipelined push, a prefetched
 * pull page) that nobody ends up awaiting cannot become an unhandled rejection.
 */
export function settled<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}

/** The value of a settled promise, or its error thrown. */
export function unwrap<T>(outcome: Settled<T>): T {
  if (outcome.ok) return outcome.value;
  throw outcome.error;
}
