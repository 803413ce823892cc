import { join } from 'node:path';
import { createSyncSystem, type SyncSystem } from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { setAppState } from '../../test/native/appState.ts';
import { asyncStorageData } from '../../test/native/asyncStorage.ts';
import {
  finishOf,
  fireFetch,
  fireTimeout,
  nativeBackgroundFetch,
  resetBackgroundFetch,
} from '../../test/native/backgroundFetch.ts';
import { startServer, stateWhere, type TestServer } from '../../test/support/server.ts';
import { createAsyncStorageKeyValueStore } from '../storage/async-storage.ts';
import { BackgroundSyncManager, DEFAULT_BACKGROUND_TASK_ID } from './BackgroundSyncManager.ts';

let server: TestServer;
let token: string;
const storage = createAsyncStorageKeyValueStore();
const open: SyncSystem[] = [];

beforeAll(async () => {
  server = await startServer();
  token = await server.token();
});
afterAll(() => server.close());
beforeEach(() => {
  resetBackgroundFetch();
  asyncStorageData.clear();
});
afterEach(async () => {
  for (const system of open.splice(0)) if (!system.localStore.closed) await system.close();
});

/** The app as it starts in the foreground, with background sync enabled. */
async function startApp(name: string, apiBaseUrl = server.url, errors: unknown[] = []) {
  const config = { apiBaseUrl, conflictStrategy: 'last-write-wins' as const };
  const system = await createSyncSystem({
    ...config,
    driver: createBetterSqliteDriver(join(server.dir, `${name}.db`)),
    getToken: () => token,
    autoStart: false,
    syncInterval: 0,
    writeDebounceMs: -1,
    backgroundSync: (syncManager) =>
      new BackgroundSyncManager(syncManager, { config, storage, onError: (error) => errors.push(error) }),
  });
  open.push(system);
  return system;
}

describe('BackgroundSyncManager', () => {
  it('configures background fetch as the OS expects and persists the configuration', async () => {
    const system = await startApp('configure');
    expect(nativeBackgroundFetch.configured).toEqual([
      { minimumFetchInterval: 15, stopOnTerminate: false, startOnBoot: true, enableHeadless: true },
    ]);
    expect((system.backgroundSync as BackgroundSyncManager).isBackgroundSyncEnabled).toBe(true);
    expect(JSON.parse(asyncStorageData.get('ferry:ferry:backgroundSyncConfig') ?? 'null')).toEqual({
      apiBaseUrl: server.url,
      conflictStrategy: 'last-write-wins',
    });
  });

  it('lets the app start when the OS refuses or restricts background fetch', async () => {
    const errors: unknown[] = [];
    nativeBackgroundFetch.nextConfigureAnswer = new Error('Background fetch unavailable in this simulator');
    const refused = await startApp('refused', server.url, errors);
    expect((refused.backgroundSync as BackgroundSyncManager).isBackgroundSyncEnabled).toBe(false);
    expect(errors).toHaveLength(1);
    nativeBackgroundFetch.nextConfigureAnswer = 0; // STATUS_RESTRICTED
    const restricted = await startApp('restricted');
    expect((restricted.backgroundSync as BackgroundSyncManager).isBackgroundSyncEnabled).toBe(false);
    // Foreground sync is unaffected.
    await restricted.collection('todos').insert({ id: 'r1', title: 'still syncs' });
    await restricted.forceSync();
    expect(await restricted.localStore.countPending()).toBe(0);
  });

  it('syncs on a background fetch event, then finishes the task', async () => {
    const system = await startApp('fetch-ok');
    await system.collection('todos').insert({ id: 'bg1', title: 'pushed in the background' });
    setAppState('background');
    const finished = finishOf('fetch-1');
    fireFetch('fetch-1');
    await finished;
    expect(await system.localStore.countPending()).toBe(0);
    expect(system.syncManager.getState().lastSyncTimestamp).toBeGreaterThan(0);
    setAppState('active');
  });

  it('finishes the task when the sync fails, keeping the change queued', async () => {
    const errors: unknown[] = [];
    // Nothing listens on port 9 of the loopback interface: the request is refused.
    const system = await startApp('fetch-fails', 'http://127.0.0.1:9', errors);
    await system.collection('todos').insert({ id: 'bg2', title: 'stuck' });
    const finished = finishOf('fetch-2');
    fireFetch('fetch-2');
    await finished;
    expect(errors).toHaveLength(1);
    expect(await system.localStore.countPending()).toBe(1);
  });

  it('finishes the task at once on the timeout event', async () => {
    await startApp('timeout');
    const finished = finishOf('fetch-3');
    fireTimeout('fetch-3');
    await finished;
    expect(nativeBackgroundFetch.finished).toEqual(['fetch-3']);
  });

  it('schedules a one-off task on backgrounding and syncs on returning to the foreground', async () => {
    const system = await startApp('appstate');
    setAppState('background');
    expect(nativeBackgroundFetch.scheduled).toEqual([
      {
        taskId: DEFAULT_BACKGROUND_TASK_ID,
        delay: 0,
        periodic: false,
        forceAlarmManager: true,
        stopOnTerminate: false,
        enableHeadless: true,
      },
    ]);
    await system.collection('todos').insert({ id: 'fg1', title: 'synced on return' });
    setAppState('active');
    await stateWhere(system, (state) => state.lastSyncTimestamp > 0 && !state.syncInProgress);
    expect(await system.localStore.countPending()).toBe(0);
  });

  it('stops following AppState and forgets the configuration when disabled', async () => {
    const system = await startApp('disable');
    await system.backgroundSync?.disable?.();
    setAppState('background');
    setAppState('active');
    expect(nativeBackgroundFetch.scheduled).toEqual([]);
    expect(asyncStorageData.size).toBe(0);
  });
});
