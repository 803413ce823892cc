import type { ServerConfig } from '@ferry/protocol';
import { SyncError } from '../errors.js';
import type { RequestOptions, SyncTransport } from '../transport/RemoteAPI.js';

/**
 * A {@link SyncTransport} that asks the server for its configuration (`GET /v1/config`) on
 * connect, that is, right before the first push or pull, and hands it to `onConfig`.
 * A failed fetch does not fail the sync: it is tried again on the next call, unless the
 * server answered with a final error (an older server without the route), then never again.
 *
 * @example
 * const api = withServerConfig(httpApi, (config) => resolver.adoptServerStrategies(config.conflictStrategies));
 */
export function withServerConfig(api: SyncTransport, onConfig: (config: ServerConfig) => void): SyncTransport {
  let learned: Promise<void> | null = null;
  const getConfig = typeof api.getConfig === 'function' ? api.getConfig.bind(api) : undefined;
  const learn = (signal: AbortSignal | undefined): Promise<void> => {
    // A hand-written transport may not implement getConfig: then there is nothing to learn.
    if (!getConfig) return Promise.resolve();
    learned ??= Promise.resolve()
      .then(() => getConfig(signal ? { signal } : {}))
      .then(onConfig)
      .catch((error: unknown) => {
        // Never fails the request it precedes; a transient failure (offline, timeout, 5xx)
        // is tried again before the next one.
        if (!(error instanceof SyncError) || error.retryable) learned = null;
      });
    return learned;
  };
  const pullSpaces = api.pullSpaces?.bind(api);
  return {
    ...bindMethods(api),
    push: async (request, options) => {
      await learn(options?.signal);
      return api.push(request, options);
    },
    pull: async (params, options) => {
      await learn(options?.signal);
      return api.pull(params, options);
    },
    // The one request of an idle sync (every space's cursor in one checkpoint) learns it too.
    ...(pullSpaces
      ? {
          pullSpaces: async (request: Parameters<typeof pullSpaces>[0], options?: RequestOptions) => {
            await learn(options?.signal);
            return pullSpaces(request, options);
          },
        }
      : {}),
  };
}

/** Every method of `api`, own or inherited, bound to it: a transport class may keep #private state. */
function bindMethods(api: SyncTransport): SyncTransport {
  const bound: Record<string, unknown> = {};
  const source = api as unknown as Record<string, unknown>;
  for (let o: object | null = api; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const key of Object.getOwnPropertyNames(o)) {
      const value = key === 'constructor' || key in bound ? undefined : source[key];
      if (typeof value === 'function') bound[key] = value.bind(api);
    }
  }
  return bound as unknown as SyncTransport;
}
