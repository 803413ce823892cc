/**
 * React Native's platform facts plugged into the engine's signals, as TanStack Query wires
 * NetInfo into `onlineManager` and AppState into `focusManager`: the core decides what to do
 * when the network returns or the app comes to the foreground; this file only reports it.
 */
import { Signal } from '@ferry/client';
import { AppState, type AppStateStatus } from 'react-native';
import { loadNetInfo, type NetInfoLike, type NetInfoStateLike } from '../optionalPeers.ts';

/** The part of React Native's `AppState` Ferry uses. */
export interface AppStateLike {
  currentState: AppStateStatus | null | string;
  addEventListener(type: 'change', listener: (state: AppStateStatus) => void): { remove(): void };
}

/**
 * Whether sync can reach the network. `isInternetReachable` is null until NetInfo has
 * checked; until then a connected interface counts as online, so the first sync is not held
 * back (a request that fails anyway is retried by the engine).
 */
export function isOnline(state: NetInfoStateLike): boolean {
  if (state.isConnected === false) return false;
  return state.isInternetReachable !== false;
}

/**
 * Feeds NetInfo into the engine's `online` signal; the engine syncs when it turns true.
 * Returns the function that stops listening.
 *
 * @example
 * const online = new Signal(true);
 * connectNetInfo(online);
 * const sync = await createSyncSystem({ online, driver, apiBaseUrl });
 */
export function connectNetInfo(online: Signal<boolean>, netInfo: NetInfoLike = loadNetInfo()): () => void {
  // NetInfo calls the listener with the current state as soon as it knows it, then on changes.
  return netInfo.addEventListener((state) => online.set(isOnline(state)));
}

/**
 * Feeds AppState into the engine's `appActive` signal: coming to the foreground syncs at
 * once, and no sync starts while the app is in the background (background sync has its own
 * path, see `BackgroundSyncManager`). `inactive` (the iOS app switcher, an incoming call) is
 * a passing state and leaves the signal as it was. Returns the function that stops listening.
 *
 * @example
 * const appActive = new Signal(true);
 * connectAppState(appActive);
 */
export function connectAppState(appActive: Signal<boolean>, appState: AppStateLike = AppState): () => void {
  const apply = (state: AppStateStatus | null | string) => {
    if (state === 'active') appActive.set(true);
    else if (state === 'background') appActive.set(false);
  };
  apply(appState.currentState);
  const subscription = appState.addEventListener('change', apply);
  return () => subscription.remove();
}

/** The engine's platform signals, wired to NetInfo and AppState. */
export interface PlatformSignals {
  online: Signal<boolean>;
  appActive: Signal<boolean>;
  /** Stops listening to NetInfo and AppState. */
  dispose(): void;
}

/**
 * Creates the `online` and `appActive` signals with NetInfo and AppState plugged in, ready
 * to spread into `createSyncSystem` (its extra `dispose` is ignored there).
 *
 * @example
 * const sync = await createSyncSystem({ ...createPlatformSignals(), driver, apiBaseUrl });
 */
export function createPlatformSignals(
  sources: { netInfo?: NetInfoLike; appState?: AppStateLike } = {},
): PlatformSignals {
  const online = new Signal(true);
  const appActive = new Signal(true);
  const stops = [connectNetInfo(online, sources.netInfo), connectAppState(appActive, sources.appState)];
  return {
    online,
    appActive,
    dispose: () => {
      for (const stop of stops) stop();
    },
  };
}
