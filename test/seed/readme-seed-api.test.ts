/**
 * The README's seed-API line, run as written against a real server on 127.0.0.1 and a real
 * SQLite store: `new BatchSync(api, localStore, { batchSize })` must move the changes AND take
 * them off the outbox.
 */
import { join } from 'node:path';
import { BatchSync, ChangeTracker, HttpRemoteAPI, LocalStore } from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
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
