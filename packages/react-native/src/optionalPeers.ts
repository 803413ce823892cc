/**
 * Optional native peers, loaded on first use. Each `require` sits in a `try`, so Metro treats
 * the module as optional: an app that never calls the feature needs not install it.
 */

/** Loads an optional peer dependency, or throws an error that says what to install. */
function optionalModule<T>(load: () => T, name: string, feature: string): T {
  try {
    return load();
  } catch (cause) {
    throw new Error(`${feature} needs ${name}: install it (npx expo install ${name}) or pass your own source`, {
      cause,
    });
  }
}

/** The default export of a module loaded with `require` (ESM interop or plain CommonJS). */
function defaultExport<T>(module: unknown): T {
  const withDefault = module as { default?: T };
  return (withDefault.default ?? module) as T;
}

/** A task event from react-native-background-fetch (headless tasks receive this object). */
export interface BackgroundFetchEvent {
  taskId: string;
  timeout: boolean;
}

/** The part of react-native-background-fetch's `BackgroundFetch` Ferry uses. */
export interface BackgroundFetchLike {
  readonly STATUS_AVAILABLE: number;
  configure(
    config: Record<string, unknown>,
    onEvent: (taskId: string) => void | Promise<void>,
    onTimeout: (taskId: string) => void | Promise<void>,
  ): Promise<number>;
  scheduleTask(config: Record<string, unknown>): Promise<boolean>;
  registerHeadlessTask(task: (event: BackgroundFetchEvent) => Promise<void>): void;
  stop(taskId?: string): Promise<boolean>;
  finish(taskId: string): void;
}

/** Loads react-native-background-fetch on first use (it is an optional peer dependency). */
export function loadBackgroundFetch(): BackgroundFetchLike {
  return optionalModule(
    () => defaultExport<BackgroundFetchLike>(require('react-native-background-fetch')),
    'react-native-background-fetch',
    'Background sync',
  );
}

/** The part of `@react-native-community/netinfo` Ferry uses. */
export interface NetInfoLike {
  addEventListener(listener: (state: NetInfoStateLike) => void): () => void;
}

/** NetInfo's state, as far as Ferry reads it. */
export interface NetInfoStateLike {
  isConnected: boolean | null;
  isInternetReachable?: boolean | null;
}

/** Loads @react-native-community/netinfo on first use (an optional peer dependency). */
export function loadNetInfo(): NetInfoLike {
  return optionalModule(
    () => defaultExport<NetInfoLike>(require('@react-native-community/netinfo')),
    '@react-native-community/netinfo',
    'connectNetInfo',
  );
}
