import { join } from 'node:path';
import { createSyncSystem } from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { asyncStorageData } from '../../test/native/asyncStorage.ts';
import { finishOf, resetBackgroundFetch, startHeadlessTask } from '../../test/native/backgroundFetch.ts';
import { startServer, type TestServer } from '../../test/support/server.ts';
import { createAsyncStorageKeyValueStore } from '../storage/async-storage.ts';
import { BackgroundSyncManager } from './BackgroundSyncManager.ts';
import type { PersistedSyncConfig } from './persistedConfig.ts';

let server: TestServer;
let token: string;
const dbPath = () => join(server.dir, 'phone.db');
const storage = createAsyncStorageKeyValueStore();
const built: PersistedSyncConfig[] = [];
const errors: unknown[] = [];

beforeAll(async () => {
  server = await startServer();
  token = await server.token();
  // What the app's index.js does at its top level: only the database location and the token
  // come from code; everything else comes from what the running app persisted.
  BackgroundSyncManager.registerHeadlessTask({
    storage,
    createSyncSystem: (config) => {
      built.push(config);
      return createSyncSystem({ ...config, driver: createBetterSqliteDriver(dbPath()), getToken: () => token });
    },
    onError: (error) => errors.push(error),
  });
});
afterAll(() => server.close());
beforeEach(() => {
  resetBackgroundFetch();
  asyncStorageData.clear();
  built.length = 0;
  errors.length = 0;
});

/** The app runs once in the foreground, enables background sync, writes offline, and is killed. */
async function runAppThenTerminate(apiBaseUrl: string, entityId: string) {
  const config = { apiBaseUrl, pullTypes: ['todos'] };
  const app = await createSyncSystem({
    ...config,
    driver: createBetterSqliteDriver(dbPath()),
    getToken: () => token,
    autoStart: false,
    backgroundSync: (syncManager) => new BackgroundSyncManager(syncManager, { config, storage }),
  });
  await app.collection('todos').insert({ id: entityId, title: 'written before the app was killed' });
  // Killed, not closed: the OS ends the process, so nothing disables background sync.
  await app.syncManager.stop();
  await app.localStore.close();
}

describe('headless background sync', () => {
  it('rebuilds the engine from the persisted configuration alone and pushes the queued change', async () => {
    await runAppThenTerminate(server.url, 'h1');
    const finished = finishOf('headless-1');
    await startHeadlessTask({ taskId: 'headless-1', timeout: false });
    await finished;
    expect(errors).toEqual([]);
    expect(built).toEqual([{ apiBaseUrl: server.url, pullTypes: ['todos'] }]);
    const other = await server.device('headless-reader');
    await other.forceSync();
    expect(await other.collection('todos').get('h1')).toMatchObject({ id: 'h1' });
  });

  it('finishes without building anything when background sync was never enabled', async () => {
    const finished = finishOf('headless-2');
    await startHeadlessTask({ taskId: 'headless-2', timeout: false });
    await finished;
    expect(built).toEqual([]);
  });

  it('finishes at once on the timeout event', async () => {
    await runAppThenTerminate(server.url, 'h3');
    const finished = finishOf('headless-3');
    await startHeadlessTask({ taskId: 'headless-3', timeout: true });
    await finished;
    expect(built).toEqual([]);
  });

  it('finishes and closes the database when the sync fails', async () => {
    await runAppThenTerminate('http://127.0.0.1:9', 'h4');
    const finished = finishOf('headless-4');
    await startHeadlessTask({ taskId: 'headless-4', timeout: false });
    await finished;
    expect(errors).toHaveLength(1);
    // The database was closed: the app can open it again and the change is still queued.
    const app = await createSyncSystem({
      apiBaseUrl: server.url,
      driver: createBetterSqliteDriver(dbPath()),
      autoStart: false,
    });
    expect(await app.localStore.countPending()).toBeGreaterThanOrEqual(1);
    await app.close();
  });
});
