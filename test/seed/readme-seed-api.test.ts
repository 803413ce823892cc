/**
 * The README's seed-API line, run as written against a real server on 127.0.0.1 and a real
 * SQLite store: `new BatchSync(api, localStore, { batchSize })` must move the changes AND take
 * them off the outbox. The README's other seed-API lines run as written too, each proving that
 * data actually moves, and that they share one tracker (one clock) on one store.
 */
import { join } from 'node:path';
import {
  BatchSync,
  ChangeTracker,
  ConflictResolver,
  HttpRemoteAPI,
  LocalStore,
  SyncErrorHandler,
  VersionVectorSync,
} from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../support/faultProxy.js';
import { type Harness, startHarness } from '../support/harness.js';

let h: Harness;
let localStore: LocalStore;

beforeEach(async () => {
  h = await startHarness();
  localStore = await LocalStore.open(createBetterSqliteDriver(join(h.dir, 'readme.db')));
});
afterEach(async () => {
  await localStore.close();
  await h.close();
});

it('README: new BatchSync(api, localStore, { batchSize }) delivers the changes and empties the outbox', async () => {
  const token = await h.token('alice');
  const api = new HttpRemoteAPI({ baseUrl: h.url, getToken: () => token });
  const tracker = new ChangeTracker(localStore, 'device-a');
  for (let i = 0; i < 5; i++) await tracker.trackChange('todos', `t${i}`, 'CREATE', { title: `todo ${i}` });
  const batchSize = 2;

  const batchSync = new BatchSync(api, localStore, { batchSize });
  const result = await batchSync.syncInBatches(await tracker.getPendingChanges());

  expect(result.failedChanges).toEqual([]);
  expect(result.totalProcessed).toBe(5);
  expect(result.totalBatches).toBe(3);
  expect((await api.getAll('todos')).map((record) => record.entityId).sort()).toEqual(['t0', 't1', 't2', 't3', 't4']);
  expect(await localStore.countPending()).toBe(0);
  expect(await tracker.getPendingChanges()).toEqual([]);
});

it("README: new ChangeTracker(db, clientId), new ConflictResolver('last-write-wins'), new VersionVectorSync(clientId, localStore, api) share one tracker and move data", async () => {
  const token = await h.token('alice');
  const api = new HttpRemoteAPI({ baseUrl: h.url, getToken: () => token });
  const db = localStore;
  const clientId = 'device-a';
  const tracker = new ChangeTracker(db, clientId);
  await tracker.trackChange('todos', 'mine', 'CREATE', { title: 'from this device' });
  // Another device's write, already on the server.
  const other = await h.device('device-b');
  await other.system.collection('todos').insert({ id: 'theirs', title: 'from b' });
  await other.system.sync();

  const conflictResolver = new ConflictResolver('last-write-wins');
  const vv = new VersionVectorSync(clientId, localStore, api, { conflictResolver });
  const result = await vv.sync('todos');

  expect(result).toMatchObject({ success: true, pushed: 1, conflicts: 0 });
  expect(ChangeTracker.of(localStore, clientId)).toBe(tracker);
  expect(await localStore.countPending()).toBe(0);
  expect((await localStore.find('todos')).map((todo) => todo.id)).toEqual(['mine', 'theirs']);
  expect((await api.getAll('todos')).map((record) => record.entityId).sort()).toEqual(['mine', 'theirs']);
});

it('README: new SyncErrorHandler({ maxRetries, baseDelay }) retries a request the network dropped, and it lands once', async () => {
  const proxy: FaultProxy = await startFaultProxy(h.url);
  try {
    proxy.inject('POST /v1/push', { kind: 'reset' }, { kind: 'lose-response' });
    const token = await h.token('alice');
    const api = new HttpRemoteAPI({ baseUrl: proxy.url, getToken: () => token });
    const tracker = new ChangeTracker(localStore, 'device-a');
    const change = await tracker.trackChange('todos', 't1', 'CREATE', { title: 'retried' });
    const maxRetries = 3;
    const baseDelay = 1;

    const errorHandler = new SyncErrorHandler({ maxRetries, baseDelay });
    const response = await errorHandler.executeWithRetry(
      () => api.push({ clientId: 'device-a', changes: [change] }),
      'push-t1',
    );

    expect(response.results.map((r) => r.status)).toEqual(['duplicate']);
    expect(proxy.count('POST /v1/push')).toBe(3);
    const log = await h.server.storage.changesSince('alice', { since: 0, limit: 10 });
    expect(log.items.map((logged) => logged.id)).toEqual([change.id]);
  } finally {
    await proxy.close();
  }
});
