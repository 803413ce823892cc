/**
 * History compaction end to end, on SQLite and PostgreSQL: a device whose cursor is older than
 * the server's horizon gets 410 RESET_REQUIRED, re-syncs from a snapshot, drops what the server
 * deleted, and keeps its unpushed writes.
 */
import { PullSyncStrategy, SyncError } from '@ferry/client';
import { PostgresStorage } from '@ferry/server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness, syncAll, useHarnessDatabase, withOverrides } from '../support/harness.js';
import { type PostgresCluster, postgresAvailable, startPostgres } from '../support/postgres.js';

const available = postgresAvailable();
let cluster: Promise<PostgresCluster> | undefined;
beforeAll(async () => {
  if (!available) return;
  cluster ??= startPostgres();
  await cluster;
}, 90_000);
afterAll(async () => {
  await (await cluster)?.stop();
}, 60_000);

const backends = [
  { name: 'SQLite', enabled: true, database: undefined },
  {
    name: 'PostgreSQL',
    enabled: available,
    database: async () => {
      cluster ??= startPostgres();
      const connectionString = await (await cluster).createDatabase();
      return () => PostgresStorage.open({ connectionString, maxConnections: 4 });
    },
  },
];

describe.each(backends)('history compaction on $name', ({ enabled, database }) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it.skipIf(!enabled)('a device behind the horizon resets from a snapshot and keeps its outbox', async () => {
    useHarnessDatabase(database);
    h = await startHarness();
    const a = await h.device('dev-a');
    const b = await h.device('dev-b');
    for (const id of ['t1', 't2', 't3']) await a.system.collection('todos').insert({ id, title: id });
    await syncAll([a, b]);
    await a.system.collection('todos').delete('t1');
    await a.system.forceSync();
    // Offline on b: a write the server has not seen yet.
    await b.system.collection('todos').insert({ id: 't9', title: 'unpushed' });

    const removed = await h.server.storage.compact({ tombstonesBefore: Date.now() + 1 });
    expect(removed.tombstones).toBe(1);
    const stale = await b.system.remoteAPI.pull({ cursor: 3, limit: 10 }).catch((error: unknown) => error);
    expect(stale).toBeInstanceOf(SyncError);
    expect(stale).toMatchObject({ status: 410, serverCode: 'RESET_REQUIRED', retryable: false });

    const pull = await new PullSyncStrategy(b.system.remoteAPI, b.system.changeTracker).pullChanges();
    expect(pull.cursor).toBe(await h.server.storage.currentSeq('alice'));
    expect((await b.todos()).map((todo) => todo.id)).toEqual(['t2', 't3', 't9']);
    expect(await b.system.localStore.countPending()).toBe(1);

    await syncAll([a, b]);
    expect((await a.todos()).map((todo) => todo.id)).toEqual(['t2', 't3', 't9']);
    expect(await b.todos()).toEqual(await a.todos());
  });

  it.skipIf(!enabled)('finishes an interrupted reset on the next pull', async () => {
    useHarnessDatabase(database);
    h = await startHarness();
    const a = await h.device('dev-a');
    let b = await h.device('dev-b', { config: { pageSize: 1 } });
    for (const id of ['t1', 't2', 't3']) await a.system.collection('todos').insert({ id, title: id });
    await syncAll([a, b]);
    await a.system.collection('todos').delete('t1');
    await a.system.forceSync();
    await h.server.storage.compact({ tombstonesBefore: Date.now() + 1 });

    // The reset's second page fails, as when the app is killed mid-reset.
    let pulls = 0;
    const api = b.system.remoteAPI;
    const flaky = withOverrides(api, {
      pull: (params, options) => {
        pulls += 1;
        if (pulls === 3) return Promise.reject(new Error('connection lost'));
        return api.pull(params, options);
      },
    });
    await expect(new PullSyncStrategy(flaky, b.system.changeTracker, { pageSize: 1 }).pullChanges()).rejects.toThrow(
      'connection lost',
    );
    b = await b.restart();
    await b.system.forceSync();
    expect((await b.todos()).map((todo) => todo.id)).toEqual(['t2', 't3']);
  });

  it.skipIf(!enabled)(
    'starts a reset over when a compaction during it removes a tombstone it has not reached',
    async () => {
      useHarnessDatabase(database);
      h = await startHarness();
      const a = await h.device('dev-a');
      const b = await h.device('dev-b', { config: { pageSize: 1 } });
      for (const id of ['t1', 't2', 't3']) await a.system.collection('todos').insert({ id, title: id });
      await syncAll([a, b]);
      await a.system.collection('todos').delete('t1');
      await a.system.forceSync();
      await h.server.storage.compact({ tombstonesBefore: Date.now() + 1 });

      // b's reset has delivered t2 live (page 1) when a deletes t2 and the server compacts again:
      // t2's tombstone, ahead of the reset's cursor, is gone before the reset gets there.
      const api = b.system.remoteAPI;
      let snapshotPages = 0;
      let struck = false;
      const racing = withOverrides(api, {
        pull: async (params, options) => {
          const response = await api.pull(params, options);
          if (params.snapshot && ++snapshotPages === 1 && !struck) {
            struck = true;
            expect(response.changes.map((record) => record.entityId)).toEqual(['t2']);
            await a.system.collection('todos').delete('t2');
            await a.system.forceSync();
            await h.server.storage.compact({ tombstonesBefore: Date.now() + 1 });
          }
          return response;
        },
      });
      await new PullSyncStrategy(racing, b.system.changeTracker, { pageSize: 1 }).pullChanges();
      expect(struck).toBe(true);
      expect((await b.todos()).map((todo) => todo.id)).toEqual(['t3']);
      await syncAll([a, b]);
      expect(await b.todos()).toEqual(await a.todos());
    },
  );
});
