/**
 * The seed article's "Testing Sync Logic" section, rewritten against the real implementation:
 * a real server on 127.0.0.1, real SQLite stores, no mocks. Each test keeps the seed's
 * arrangement and assertion, with the mock replaced by the real part it stood for.
 */

import { join } from 'node:path';
import {
  ChangeTracker,
  ConflictResolver,
  LocalStore,
  NetworkError,
  SyncManager,
  VersionVectorSync,
} from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness, withOverrides } from '../support/harness.js';

let h: Harness;
let localStore: LocalStore;
let syncManager: SyncManager;
let api: Awaited<ReturnType<Harness['device']>>['system']['remoteAPI'];

beforeEach(async () => {
  h = await startHarness();
  const device = await h.device('seed-helper');
  api = device.system.remoteAPI;
  localStore = await LocalStore.open(createBetterSqliteDriver(join(h.dir, 'seed-client.db')));
  syncManager = new SyncManager({
    localStore,
    remoteAPI: api,
    conflictResolver: new ConflictResolver('last-write-wins'),
    syncInterval: 60000,
    batchSize: 50,
  });
});
afterEach(async () => {
  await syncManager.stop();
  await localStore.close();
  await h.close();
});

describe('SyncManager', () => {
  describe('Push Sync', () => {
    it('should push pending local changes to server', async () => {
      const tracker = await syncManager.ready();
      await tracker.trackChange('todos', 'todo-1', 'CREATE', { title: 'Test todo' });

      await syncManager.pushChanges();

      const onServer = await api.getAll('todos');
      expect(onServer.map((r) => r.data)).toEqual([{ title: 'Test todo' }]);
    });

    it('should handle push errors gracefully', async () => {
      const failing = new SyncManager({
        localStore,
        remoteAPI: withOverrides(api, {
          push: async () => {
            throw new NetworkError('Network error');
          },
        }),
        conflictResolver: new ConflictResolver('last-write-wins'),
        syncInterval: 60000,
        batchSize: 50,
      });
      const tracker = await failing.ready();
      await tracker.trackChange('todos', 'todo-1', 'CREATE', { title: 'Test todo' });

      const result = await failing.pushChanges();
      await failing.stop();

      expect(result.failed).toBe(1);
      expect(await localStore.countPending()).toBe(1);
    });
  });

  describe('Pull Sync', () => {
    it('should pull remote changes and apply locally', async () => {
      await api.create('todos', { id: 'todo-1', title: 'Todo' });
      await api.update('todos', 'todo-1', { title: 'Updated todo' });

      await syncManager.pullChanges();

      expect(await localStore.get('todos', 'todo-1')).toEqual({ id: 'todo-1', title: 'Updated todo' });
    });
  });

  describe('Conflict Resolution', () => {
    it('should resolve conflicts using last-write-wins', async () => {
      const localChange = {
        id: 'change-1',
        entityType: 'todos',
        entityId: 'todo-1',
        operation: 'UPDATE' as const,
        data: { title: 'Local update' },
        timestamp: 1000,
        version: 2,
        clientId: 'client-1',
      };
      const serverChange = {
        id: 'change-2',
        entityType: 'todos',
        entityId: 'todo-1',
        operation: 'UPDATE' as const,
        data: { title: 'Server update' },
        timestamp: 2000,
        version: 2,
      };

      const resolver = new ConflictResolver('last-write-wins');
      const resolution = await resolver.resolve({
        localVersion: localChange,
        serverVersion: serverChange,
        entityType: 'todos',
        entityId: 'todo-1',
        conflictType: 'update-update',
        conflictingFields: ['title'],
      });

      expect(resolution.winner).toBe('server');
      expect(resolution.resolvedData?.title).toBe('Server update');
    });
  });
});

describe('ChangeTracker', () => {
  it('should track new changes', async () => {
    const changeTracker = new ChangeTracker(localStore, 'test-client');

    const change = await changeTracker.trackChange('todos', 'todo-1', 'CREATE', { title: 'New todo' });

    expect(change.entityType).toBe('todos');
    expect(change.operation).toBe('CREATE');
    expect((await changeTracker.getPendingChanges()).map((c) => c.id)).toEqual([change.id]);
  });

  it('should increment version for existing entities', async () => {
    const changeTracker = new ChangeTracker(localStore, 'test-client');
    await changeTracker.trackChange('todos', 'todo-1', 'CREATE', { title: 'v1' });
    for (let v = 2; v <= 5; v++) await changeTracker.trackChange('todos', 'todo-1', 'UPDATE', { title: `v${v}` });

    const change = await changeTracker.trackChange('todos', 'todo-1', 'UPDATE', { title: 'Updated todo' });

    expect(change.version).toBe(6);
  });
});

describe('Version Vector Sync', () => {
  let versionVectorSync: VersionVectorSync;

  beforeEach(() => {
    versionVectorSync = new VersionVectorSync('client-1', localStore, api);
  });

  it('should detect concurrent modifications', () => {
    const v1 = { 'client-1': 2, 'client-2': 1 };
    const v2 = { 'client-1': 1, 'client-2': 2 };
    expect(versionVectorSync.compareVersions(v1, v2)).toBe('concurrent');
  });

  it('should correctly identify newer versions', () => {
    const v1 = { 'client-1': 3, 'client-2': 2 };
    const v2 = { 'client-1': 2, 'client-2': 1 };
    expect(versionVectorSync.compareVersions(v1, v2)).toBe('v1_newer');
  });

  it('should merge version vectors correctly', () => {
    const v1 = { 'client-1': 3, 'client-2': 1 };
    const v2 = { 'client-1': 2, 'client-2': 4, 'client-3': 1 };
    expect(versionVectorSync.mergeVersionVectors(v1, v2)).toEqual({ 'client-1': 3, 'client-2': 4, 'client-3': 1 });
  });

  it('adopts a stale copy without calling it a conflict, and resolves a true concurrent edit', async () => {
    const resolver = new ConflictResolver('last-write-wins');
    const sync = new VersionVectorSync('client-1', localStore, api, { conflictResolver: resolver });
    await api.create('todos', { id: 'stale', title: 'server v1' });
    await sync.sync('todos');
    await api.update('todos', 'stale', { title: 'server v2' });
    const stale = await sync.sync('todos');
    expect(stale.conflicts).toBe(0);
    expect(await localStore.get('todos', 'stale')).toEqual({ id: 'stale', title: 'server v2' });
  });
});
