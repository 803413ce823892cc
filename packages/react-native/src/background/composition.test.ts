/**
 * react-native-background-fetch is a singleton: one `configure` handler (each call removes
 * the previous `fetch` listeners) and one headless task per app. These tests run the
 * package's real JavaScript (only its native module is a stand-in, test/native/) and check
 * that an app with background work of its own can own both and call Ferry from them, and
 * that iOS's refusal of Ferry's task id reaches the app as a clear error.
 */
import { join } from 'node:path';
import { createSyncSystem, type SyncSystem } from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import BackgroundFetch from 'react-native-background-fetch';
import { setAppState } from '../../test/native/appState.ts';
import { asyncStorageData } from '../../test/native/asyncStorage.ts';
import {
  finishOf,
  fireFetch,
  nativeBackgroundFetch,
  resetBackgroundFetch,
  startHeadlessTask,
} from '../../test/native/backgroundFetch.ts';
import { startServer, type TestServer } from '../../test/support/server.ts';
import { BackgroundTaskError } from '../errors.ts';
import { createAsyncStorageKeyValueStore } from '../storage/async-storage.ts';
import { BackgroundSyncManager, type BackgroundSyncOptions } from './BackgroundSyncManager.ts';
import { runBackgroundSyncHeadless } from './headlessTask.ts';

let server: TestServer;
let token: string;
const storage = createAsyncStorageKeyValueStore();
const open: SyncSystem[] = [];
const appWork: string[] = [];

beforeAll(async () => {
  server = await startServer();
  token = await server.token();
});
afterAll(() => server.close());
beforeEach(() => {
  resetBackgroundFetch();
  asyncStorageData.clear();
  appWork.length = 0;
});
afterEach(async () => {
  setAppState('active');
  for (const system of open.splice(0)) if (!system.localStore.closed) await system.close();
});

/** The app in the foreground with Ferry's background sync, built with `options`. */
async function startApp(name: string, options: Partial<BackgroundSyncOptions>, apiBaseUrl = server.url) {
  const config = { apiBaseUrl, pullTypes: ['todos'] };
  let manager!: BackgroundSyncManager;
  const system = await createSyncSystem({
    ...config,
    driver: createBetterSqliteDriver(join(server.dir, `${name}.db`)),
    getToken: () => token,
    autoStart: false,
    syncInterval: 0,
    writeDebounceMs: -1,
    backgroundSync: (syncManager) => {
      // The real package's default export, typed as it ships: no cast.
      manager = new BackgroundSyncManager(syncManager, {
        config,
        storage,
        backgroundFetch: BackgroundFetch,
        ...options,
      });
      return manager;
    },
  });
  open.push(system);
  return { system, manager };
}

describe('an app that owns background fetch (configure: false)', () => {
  it('keeps its own configure handler, which runs its work and Ferry sync, then finishes once', async () => {
    // The app configures background fetch itself, before or after Ferry starts.
    let ferry: BackgroundSyncManager | null = null;
    await BackgroundFetch.configure(
      { minimumFetchInterval: 30, stopOnTerminate: false, enableHeadless: true },
      async (taskId) => {
        await Promise.all([ferry?.runBackgroundSync(), Promise.resolve(appWork.push(`app:${taskId}`))]);
        BackgroundFetch.finish(taskId);
      },
      (taskId) => BackgroundFetch.finish(taskId),
    );
    const { system, manager } = await startApp('owned', { configure: false });
    ferry = manager;
    // Ferry never called configure, which would have replaced the app's handler.
    expect(nativeBackgroundFetch.configured).toEqual([
      { minimumFetchInterval: 30, stopOnTerminate: false, enableHeadless: true },
    ]);
    expect(manager.isBackgroundSyncEnabled).toBe(false);

    await system.collection('todos').insert({ id: 'own1', title: 'pushed from the app handler' });
    setAppState('background');
    const finished = finishOf('react-native-background-fetch');
    fireFetch('react-native-background-fetch');
    await finished;
    expect(appWork).toEqual(['app:react-native-background-fetch']);
    expect(nativeBackgroundFetch.finished).toEqual(['react-native-background-fetch']);
    expect(await system.localStore.countPending()).toBe(0);
  });

  it('still schedules its own task on backgrounding, and cancels only that task when disabled', async () => {
    const { system, manager } = await startApp('owned-task', { configure: false, taskId: 'com.example.app.ferry' });
    setAppState('background');
    await BackgroundFetch.status(); // one native round trip: scheduleTask, asked first, has answered
    expect(nativeBackgroundFetch.scheduled).toMatchObject([{ taskId: 'com.example.app.ferry', periodic: false }]);
    expect(manager.taskId).toBe('com.example.app.ferry');
    await system.close();
    expect(nativeBackgroundFetch.stopped).toEqual(['com.example.app.ferry']);
  });

  it('reports a sync failure to onError without rejecting, so the app still finishes its task', async () => {
    const errors: unknown[] = [];
    // Nothing listens on port 9 of the loopback interface: the request is refused.
    const { system, manager } = await startApp(
      'owned-fails',
      { configure: false, onError: (error) => errors.push(error) },
      'http://127.0.0.1:9',
    );
    await system.collection('todos').insert({ id: 'own2', title: 'stuck' });
    await expect(manager.runBackgroundSync()).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(await system.localStore.countPending()).toBe(1);
  });
});

describe('an app that owns the headless task', () => {
  it('calls runBackgroundSyncHeadless beside its own work and finishes the task once', async () => {
    const dbPath = join(server.dir, 'headless-owned.db');
    const errors: unknown[] = [];
    // What the app's index.js registers instead of BackgroundSyncManager.registerHeadlessTask.
    BackgroundFetch.registerHeadlessTask(async ({ taskId, timeout }) => {
      if (!timeout) {
        await Promise.all([
          runBackgroundSyncHeadless({
            storage,
            createSyncSystem: (config) =>
              createSyncSystem({ ...config, driver: createBetterSqliteDriver(dbPath), getToken: () => token }),
            onError: (error) => errors.push(error),
          }),
          Promise.resolve(appWork.push(`headless:${taskId}`)),
        ]);
      }
      BackgroundFetch.finish(taskId);
    });
    // The app ran once with background sync enabled, wrote offline, and was killed.
    const config = { apiBaseUrl: server.url };
    const app = await createSyncSystem({
      ...config,
      driver: createBetterSqliteDriver(dbPath),
      getToken: () => token,
      autoStart: false,
      backgroundSync: (syncManager) => new BackgroundSyncManager(syncManager, { config, storage, configure: false }),
    });
    await app.collection('todos').insert({ id: 'hl1', title: 'pushed by the app headless task' });
    await app.syncManager.stop();
    await app.localStore.close();

    const finished = finishOf('headless-owned');
    await startHeadlessTask({ taskId: 'headless-owned', timeout: false });
    await finished;
    expect(errors).toEqual([]);
    expect(appWork).toEqual(['headless:headless-owned']);
    expect(nativeBackgroundFetch.finished).toEqual(['headless-owned']);
    const reader = await server.device('headless-owned-reader');
    await reader.forceSync();
    expect(await reader.collection('todos').get('hl1')).toMatchObject({ title: 'pushed by the app headless task' });
  });
});

describe('the iOS one-off task', () => {
  it('refuses an empty task id at once', () => {
    const target = { triggerSync: async () => {}, performFullSync: async () => ({}) as never };
    expect(() => new BackgroundSyncManager(target, { taskId: ' ' })).toThrow('`taskId` is empty');
  });

  it('uses the configured task id and reports an id iOS refuses as a BackgroundTaskError', async () => {
    let reported!: (error: unknown) => void;
    const error = new Promise<unknown>((resolve) => {
      reported = resolve;
    });
    await startApp('ios-refused', { taskId: 'com.example.app.sync', onError: (cause) => reported(cause) });
    // Info.plist lists only background fetch's own id, not the app's task id.
    nativeBackgroundFetch.permittedTaskIds = new Set(['com.transistorsoft.fetch']);
    setAppState('background');
    const refused = (await error) as BackgroundTaskError;
    expect(refused).toBeInstanceOf(BackgroundTaskError);
    expect(refused.taskId).toBe('com.example.app.sync');
    expect(refused.message).toContain('"com.example.app.sync"');
    expect(refused.message).toContain('BGTaskSchedulerPermittedIdentifiers');
    expect(refused.cause).toMatchObject({ code: 'scheduleTask', message: expect.stringContaining('error 3') });
  });
});
