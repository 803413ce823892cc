/**
 * The seed's sync classes are adapters over the store's one engine: their cycles go through the
 * SyncManager's loop when one runs on the store, and through one shared loop otherwise, so two
 * of them never sync one store side by side. Real server on 127.0.0.1, real SQLite files.
 */
import { join } from 'node:path';
import {
  ChangeTracker,
  ConflictResolver,
  HttpRemoteAPI,
  LocalStore,
  type RemoteAPI,
  SyncManager,
  type SyncPhase,
  type SyncTransport,
  TimestampBasedSync,
  VersionVectorSync,
} from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

/** A transport that records the most requests it ever had in flight at once. */
function countingInFlight(api: RemoteAPI): { api: RemoteAPI; max: () => number } {
  let inFlight = 0;
  let max = 0;
  const track = async <T>(call: () => Promise<T>): Promise<T> => {
    max = Math.max(max, ++inFlight);
    try {
      // A little latency, so two engines on one store would overlap if they could.
      await new Promise((resolve) => setTimeout(resolve, 20));
      return await call();
    } finally {
      inFlight--;
    }
  };
  const wrapped = Object.create(api) as RemoteAPI;
  wrapped.push = (request, options) => track(() => api.push(request, options));
  wrapped.pull = (params, options) => track(() => api.pull(params, options));
  return { api: wrapped, max: () => max };
}

it("VersionVectorSync.sync runs as a cycle of the store's SyncManager: its progress feed shows it", async () => {
  const device = await h.device('dev-a', { config: { autoStart: false } });
  const { syncManager, localStore, remoteAPI, changeTracker } = device.system;
  await device.system.collection('todos').insert({ id: 't1', title: 'through the manager' });
  const phases: SyncPhase[] = [];
  syncManager.subscribeToProgress((progress) => phases.push(progress.phase));

  const vv = new VersionVectorSync(changeTracker.clientId, localStore, remoteAPI);
  const result = await vv.sync('todos');

  expect(result).toMatchObject({ success: true, pushed: 1, conflicts: 0 });
  expect(phases).toEqual(expect.arrayContaining(['preparing', 'uploading', 'downloading', 'complete']));
  expect(syncManager.getState().lastSyncTimestamp).not.toBeNull();
  expect(await localStore.countPending()).toBe(0);
  expect((await remoteAPI.getAll('todos')).map((record) => record.entityId)).toEqual(['t1']);
});

it('without a SyncManager, adapters on one store share one loop: their cycles never overlap', async () => {
  const localStore = await LocalStore.open(createBetterSqliteDriver(join(h.dir, 'adapters.db')));
  try {
    const token = await h.token('alice');
    const http = new HttpRemoteAPI({ baseUrl: h.url, getToken: () => token });
    const counted = countingInFlight(http);
    const tracker = new ChangeTracker(localStore, 'device-a');
    for (let i = 0; i < 3; i++) await tracker.trackChange('todos', `t${i}`, 'CREATE', { title: `todo ${i}` });

    const vv = new VersionVectorSync('device-a', localStore, counted.api, {
      conflictResolver: new ConflictResolver('last-write-wins'),
    });
    const ts = new TimestampBasedSync(localStore, counted.api, { changeTracker: tracker });
    const [first, second] = await Promise.all([vv.sync('todos'), ts.sync('todos')]);

    expect(counted.max()).toBe(1);
    expect(first.pushed + second.uploaded).toBe(3);
    expect(await localStore.countPending()).toBe(0);
    const server = await http.getAll('todos');
    expect(server.map((record) => record.entityId).sort()).toEqual(['t0', 't1', 't2']);
  } finally {
    await localStore.close();
  }
});

it('the engine runs on a transport of three functions: push, pull and the server config', async () => {
  const localStore = await LocalStore.open(createBetterSqliteDriver(join(h.dir, 'transport.db')));
  const token = await h.token('alice');
  const http = new HttpRemoteAPI({ baseUrl: h.url, getToken: () => token });
  const transport: SyncTransport = {
    push: (request, options) => http.push(request, options),
    pull: (params, options) => http.pull(params, options),
    getConfig: (options) => http.getConfig(options),
  };
  const syncManager = new SyncManager({ localStore, remoteAPI: transport, clientId: 'device-a', autoStart: false });
  try {
    const tracker = await syncManager.ready();
    await tracker.trackChange('todos', 'mine', 'CREATE', { title: 'up' });
    const other = await h.device('device-b');
    await other.system.collection('todos').insert({ id: 'theirs', title: 'down' });
    await other.system.sync();

    await syncManager.performFullSync();

    expect((await localStore.find('todos')).map((todo) => todo.id)).toEqual(['mine', 'theirs']);
    expect(await h.server.storage.getRecord('alice', 'todos', 'mine')).not.toBeNull();
  } finally {
    await syncManager.stop();
    await localStore.close();
  }
});
