/**
 * Installs the stand-ins for native modules before any test module loads. Each replaces
 * only what runs in native code on a phone; the JavaScript of every package (React Native's
 * AppState, NetInfo, AsyncStorage, react-native-background-fetch) runs unchanged on top.
 */
import { jest } from '@jest/globals';
import { NativeModules } from 'react-native';
import { nativeAppState } from './appState.ts';
import { nativeAsyncStorage } from './asyncStorage.ts';
import { nativeBackgroundFetch, nativeHeadlessJsTaskSupport } from './backgroundFetch.ts';
import { nativeNetInfo } from './netInfo.ts';

// React Native's preset replaces the whole AppState module with inert jest.fn()s; we want
// its real JavaScript, fed by a stand-in for its native module (below).
jest.unmock('react-native/Libraries/AppState/AppState');

Object.assign(NativeModules, {
  AppState: nativeAppState,
  RNCNetInfo: nativeNetInfo,
  RNCAsyncStorage: nativeAsyncStorage,
  RNBackgroundFetch: nativeBackgroundFetch,
  HeadlessJsTaskSupport: nativeHeadlessJsTaskSupport,
});
