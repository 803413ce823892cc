/**
 * Optional native peers, loaded on first use, and the parts of their APIs Ferry uses.
 *
 * Metro treats a `require` as optional only when the call sits lexically inside a `try {}`
 * block (its collectDependencies' `isOptionalDependency`); a `require` in a callback handed
 * to a helper is a hard dependency, and an app without the package fails to bundle. So each
 * loader below keeps its `require` written directly in its own `try`: do not factor it out.
 * examples/rn-bundle proves it with the real Metro, with and without the peers installed.
 *
 * The types mirror the real packages' declarations (react-native-background-fetch's come from
 * `@transistorsoft/background-fetch-types`) so the real objects are accepted as they are;
 * test/types/ checks that against the installed packages.
 */

/** The error for an optional peer that is not installed. */
function missingPeer(name: string, feature: string, cause: unknown): Error {
  return new Error(`${feature} needs ${name}: install it (npx expo install ${name}) or pass your own source`, {
    cause,
  });
}

/** The default export of a module loaded with `require` (ESM interop or plain CommonJS). */
function defaultExport<T>(module: unknown): T {
  const withDefault = module as { default?: T };
  return (withDefault.default ?? module) as T;
}

/** react-native-background-fetch's `HeadlessEvent`: what a task (headless or not) receives. */
export interface BackgroundFetchEvent {
  taskId: string;
  timeout: boolean;
}

/** The settings react-native-background-fetch's `configure` and `scheduleTask` share (its `AbstractConfig`). */
export interface BackgroundFetchCommonConfig {
  stopOnTerminate?: boolean;
  startOnBoot?: boolean;
  enableHeadless?: boolean;
  forceAlarmManager?: boolean;
  requiredNetworkType?: number;
  requiresBatteryNotLow?: boolean;
  requiresStorageNotLow?: boolean;
  requiresCharging?: boolean;
  requiresDeviceIdle?: boolean;
}

/** react-native-background-fetch's `BackgroundFetchConfig` (the argument of `configure`). */
export interface BackgroundFetchConfig extends BackgroundFetchCommonConfig {
  minimumFetchInterval?: number;
}

/** react-native-background-fetch's `TaskConfig` (the argument of `scheduleTask`). */
export interface BackgroundFetchTaskConfig extends BackgroundFetchCommonConfig {
  taskId: string;
  delay: number;
  periodic?: boolean;
  requiresNetworkConnectivity?: boolean;
}

/**
 * The part of react-native-background-fetch's `BackgroundFetch` Ferry uses, with its
 * parameter types: the package's default export is accepted as it is.
 */
export interface BackgroundFetchLike {
  readonly STATUS_AVAILABLE: number;
  configure(
    config: BackgroundFetchConfig,
    onEvent: (taskId: string) => void,
    onTimeout?: (taskId: string) => void,
  ): Promise<number>;
  scheduleTask(config: BackgroundFetchTaskConfig): Promise<boolean>;
  registerHeadlessTask(task: (event: BackgroundFetchEvent) => Promise<void>): void;
  stop(taskId?: string): Promise<boolean>;
  finish(taskId: string): void;
}

/** Loads react-native-background-fetch on first use (it is an optional peer dependency). */
export function loadBackgroundFetch(): BackgroundFetchLike {
  try {
    return defaultExport<BackgroundFetchLike>(require('react-native-background-fetch'));
  } catch (cause) {
    throw missingPeer('react-native-background-fetch', 'Background sync', cause);
  }
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
  try {
    return defaultExport<NetInfoLike>(require('@react-native-community/netinfo'));
  } catch (cause) {
    throw missingPeer('@react-native-community/netinfo', 'connectNetInfo', cause);
  }
}
