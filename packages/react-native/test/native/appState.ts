/**
 * Stand-in for React Native's native AppState module: what iOS or Android report about the
 * app's lifecycle. React Native's AppState JavaScript reads the initial state from
 * `getConstants()` and listens for `appStateDidChange` on the device event emitter, as on a
 * phone; `setAppState` is the OS moving the app to the foreground or background.
 */
import { DeviceEventEmitter } from 'react-native';

type Status = 'active' | 'background' | 'inactive';
let current: Status = 'active';

export const nativeAppState = {
  getConstants: () => ({ initialAppState: current }),
  getCurrentAppState: (success: (data: { app_state: Status }) => void) => success({ app_state: current }),
  addListener: () => undefined,
  removeListeners: () => undefined,
};

/** The OS changes the app's lifecycle state. */
export function setAppState(status: Status): void {
  current = status;
  DeviceEventEmitter.emit('appStateDidChange', { app_state: status });
}
