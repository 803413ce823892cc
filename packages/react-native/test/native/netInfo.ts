/**
 * Stand-in for NetInfo's native module (RNCNetInfo): the radio state iOS or Android report.
 * @react-native-community/netinfo's own JavaScript runs unchanged on top of it: it asks for
 * the current state and listens for `netInfo.networkStatusDidChange` on the device event
 * emitter. The state says whether the internet is reachable, so NetInfo never probes the
 * network itself.
 */
import { DeviceEventEmitter } from 'react-native';

const stateFor = (connected: boolean) => ({
  type: connected ? 'wifi' : 'none',
  isConnected: connected,
  isInternetReachable: connected,
  isWifiEnabled: true,
  details: connected ? { isConnectionExpensive: false } : null,
});

let state = stateFor(true);

export const nativeNetInfo = {
  configure: () => undefined,
  getCurrentState: async () => state,
  addListener: () => undefined,
  removeListeners: () => undefined,
};

/** The OS reports a network change. */
export function setConnected(connected: boolean): void {
  state = stateFor(connected);
  DeviceEventEmitter.emit('netInfo.networkStatusDidChange', state);
}
