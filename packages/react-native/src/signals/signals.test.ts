import { Signal } from '@ferry/client';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setAppState } from '../../test/native/appState.ts';
import { setConnected } from '../../test/native/netInfo.ts';
import { startServer, stateWhere, type TestServer } from '../../test/support/server.ts';
import { connectAppState, connectNetInfo, createPlatformSignals, isOnline } from './createPlatformSignals.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('NetInfo → online', () => {
  it('follows the radio, treating an unchecked internet as reachable', async () => {
    const online = new Signal(true);
    const stop = connectNetInfo(online);
    setConnected(false);
    expect(online.get()).toBe(false);
    setConnected(true);
    expect(online.get()).toBe(true);
    stop();
    setConnected(false);
    expect(online.get()).toBe(true);
    setConnected(true);
    expect(isOnline({ isConnected: true, isInternetReachable: null })).toBe(true);
    expect(isOnline({ isConnected: true, isInternetReachable: false })).toBe(false);
  });

  it('holds writes while offline and syncs them when the network comes back', async () => {
    const { online, appActive, dispose } = createPlatformSignals();
    await settle(); // NetInfo reads the native state asynchronously
    const device = await server.device('netinfo-device', { online, appActive, autoStart: true });
    setConnected(false);
    await device.collection('todos').insert({ id: 'n1', title: 'written offline' });
    await device.syncManager.triggerSync();
    expect(await device.localStore.countPending()).toBe(1);

    setConnected(true);
    const state = await stateWhere(device, (s) => s.pendingChanges === 0 && !s.syncInProgress);
    expect(state.lastSyncTimestamp).toBeGreaterThan(0);
    const other = await server.device('netinfo-other');
    await other.forceSync();
    expect(await other.collection('todos').get('n1')).toEqual({ id: 'n1', title: 'written offline' });
    dispose();
  });
});

describe('AppState → appActive', () => {
  it('goes inactive only in the background and ignores the passing inactive state', () => {
    const appActive = new Signal(true);
    const stop = connectAppState(appActive);
    setAppState('inactive');
    expect(appActive.get()).toBe(true);
    setAppState('background');
    expect(appActive.get()).toBe(false);
    setAppState('inactive');
    expect(appActive.get()).toBe(false);
    setAppState('active');
    expect(appActive.get()).toBe(true);
    stop();
    setAppState('background');
    expect(appActive.get()).toBe(true);
    setAppState('active');
  });

  it('syncs when the app returns to the foreground', async () => {
    const appActive = new Signal(true);
    const stop = connectAppState(appActive);
    const device = await server.device('appstate-device', { appActive, autoStart: true });
    setAppState('background');
    await device.collection('todos').insert({ id: 'a1', title: 'from the background' });
    await device.syncManager.triggerSync();
    expect(await device.localStore.countPending()).toBe(1);

    setAppState('active');
    await stateWhere(device, (s) => s.pendingChanges === 0 && !s.syncInProgress);
    stop();
  });
});
