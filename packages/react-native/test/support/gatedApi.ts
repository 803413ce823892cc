/**
 * A RemoteAPI that holds each push and pull request (a pull is `pull` or `pullSpaces`, the one
 * POST /v1/pull that carries the private cursor with every space's) at a gate until the test lets it
 * through, then sends it to the real server. It lets a test look at the UI while the engine
 * is in a given phase, without timers.
 */
import type { RemoteAPI } from '@ferry/client';

type Held = { method: 'push' | 'pull'; release(): void; fail(error: Error): void };

export interface Gate {
  api: RemoteAPI;
  /** Resolves when the engine's next request reaches the gate. */
  reached(method: 'push' | 'pull'): Promise<void>;
  /** Lets the held request through to the server. */
  release(): void;
  /** Fails the held request with `error` instead. */
  fail(error: Error): void;
  /** Lets every later request through and releases a held one. */
  open(): void;
  /** Holds requests at the gate again. */
  close(): void;
}

export function gatedApi(inner: RemoteAPI): Gate {
  let held: Held | null = null;
  let waiting: { method: string; resolve(): void } | null = null;
  let opened = false;

  const hold = (method: 'push' | 'pull') =>
    new Promise<void>((release, fail) => {
      if (opened) return release();
      held = { method, release, fail };
      if (waiting?.method === method) {
        waiting.resolve();
        waiting = null;
      }
    });

  // A plain object with the real client's methods, push and pull going through the gate.
  const api: Record<string, unknown> = {};
  for (let o: object | null = inner; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const key of Object.getOwnPropertyNames(o)) {
      const value = (inner as unknown as Record<string, unknown>)[key];
      if (key === 'constructor' || key in api || typeof value !== 'function') continue;
      const method = key === 'push' ? 'push' : key === 'pull' || key === 'pullSpaces' ? 'pull' : null;
      api[key] = method
        ? async (...args: unknown[]) => {
            await hold(method);
            return value.apply(inner, args);
          }
        : value.bind(inner);
    }
  }

  const take = (): Held => {
    if (!held) throw new Error('No request is held at the gate');
    const current = held;
    held = null;
    return current;
  };

  return {
    api: api as unknown as RemoteAPI,
    reached: (method) =>
      held?.method === method ? Promise.resolve() : new Promise((resolve) => (waiting = { method, resolve })),
    release: () => take().release(),
    fail: (error) => take().fail(error),
    open: () => {
      opened = true;
      if (held) take().release();
    },
    close: () => {
      opened = false;
    },
  };
}
