/**
 * A device never wedges: no change (its size, its type) stops the rest of the outbox or the
 * pull. A real server on 127.0.0.1, real SQLite devices; a real proxy where the path to the
 * server has a smaller body limit of its own.
 */
import { ChangeTracker, LocalStore, NetworkError, SyncError, type SyncManager } from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { ServerRules } from '@ferry/client/engine';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualTimers } from '../../packages/client/src/testing/ManualTimers.js';
import { type FaultProxy, type FaultProxyOptions, startFaultProxy } from '../support/faultProxy.js';
import {
  type Device,
  type DeviceOptions,
  type Harness,
  startHarness,
  syncAll,
  withOverrides,
} from '../support/harness.js';

let h: Harness;
let proxy: FaultProxy | undefined;
let timers: ManualTimers;

beforeEach(async () => {
  h = await startHarness();
  timers = new ManualTimers();
});

afterEach(async () => {
  await h.close();
  await proxy?.close();
  proxy = undefined;
});

/** A device with virtual timers (no retry fires by itself), optionally behind a proxy. */
async function device(name: string, options: DeviceOptions & { proxy?: FaultProxyOptions } = {}): Promise<Device> {
  const { proxy: proxyOptions, ...rest } = options;
  if (proxyOptions) proxy = await startFaultProxy(h.url, proxyOptions);
  return h.device(name, {
    ...(proxy ? { baseUrl: proxy.url } : {}),
    ...rest,
    config: { timers, retry: { random: () => 0, baseDelay: 1000 }, ...rest.config },
  });
}

const note = (i: number, bytes: number) => ({ id: `n${String(i).padStart(4, '0')}`, body: 'x'.repeat(bytes) });

async function serverIds(type: string): Promise<string[]> {
  const page = await h.server.storage.pull('alice', { cursor: 0, limit: 1000, types: [type] });
  return page.items.map((record) => record.entityId).sort();
}

/** Syncs until the outbox is empty, tolerating failed cycles; bounded. */
async function syncUntilEmpty(manager: SyncManager, rounds = 10): Promise<number> {
  for (let round = 1; round <= rounds; round++) {
    await manager.performFullSync().catch(() => undefined);
    if (manager.getState().pendingChanges === 0) return round;
  }
  throw new Error(`The outbox did not empty within ${rounds} syncs`);
}

describe('a large outbox never wedges a device', () => {
  it('pushes 500 offline notes of 2.5 KB each (1.3 MB in all) in requests under the body limit', async () => {
    const a = await device('a');
    const notes = a.system.collection('notes');
    for (let i = 0; i < 500; i++) await notes.insert(note(i, 2500));

    await a.system.forceSync();

    expect(await serverIds('notes')).toHaveLength(500);
    expect(await a.system.localStore.countPending()).toBe(0);
    expect(await a.system.listDeadLetters()).toEqual([]);
  });

  it('refuses a change too large for any request at write time, with a clear error and nothing written', async () => {
    const a = await device('a');
    const notes = a.system.collection('notes');

    const error = await notes.insert(note(1, 1_200_000)).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(SyncError);
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', serverCode: 'PAYLOAD_TOO_LARGE', retryable: false });
    expect((error as Error).message).toMatch(/at most 1048576 bytes/);
    expect(await notes.get('n0001')).toBeNull();
    expect(await a.system.localStore.countPending()).toBe(0);
  });

  it('dead-letters a 1.2 MB change already in the outbox; the small ones behind it reach the server', async () => {
    // Written by a build that did not check sizes (or for a server with a larger limit).
    const old = await h.device('a');
    const { dbPath } = old;
    await old.close();
    const store = await LocalStore.open(createBetterSqliteDriver(dbPath));
    const rules = new ServerRules();
    await rules.learn({ entityTypes: ['todos', 'notes'], limits: { ...LIMITS_8MB } });
    const tracker = new ChangeTracker(store, 'a', { rules });
    await tracker.trackChange('notes', 'big', 'CREATE', { body: 'x'.repeat(1_200_000) });
    for (let i = 0; i < 20; i++) await tracker.trackChange('notes', `small${i}`, 'CREATE', { body: 'y' });
    await store.close();

    const a = await device('a');
    await a.system.forceSync();

    expect(await serverIds('notes')).toHaveLength(20);
    expect(await serverIds('notes')).not.toContain('big');
    const dead = await a.system.listDeadLetters();
    expect(dead.map((letter) => letter.change.entityId)).toEqual(['big']);
    expect(dead[0]?.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await a.system.localStore.countPending()).toBe(0);
  });

  it('splits requests a proxy answers 413, and dead-letters a lone change it still refuses', async () => {
    const a = await device('a', { proxy: { bodyLimit: { bytes: 100_000, answer: '413' } } });
    const notes = a.system.collection('notes');
    for (let i = 0; i < 100; i++) await notes.insert(note(i, 2500));
    await notes.insert({ id: 'too-big-for-the-proxy', body: 'z'.repeat(150_000) });
    for (let i = 100; i < 110; i++) await notes.insert(note(i, 2500));

    await a.system.forceSync();

    expect(await serverIds('notes')).toHaveLength(110);
    const dead = await a.system.listDeadLetters();
    expect(dead.map((letter) => letter.change.entityId)).toEqual(['too-big-for-the-proxy']);
    expect(dead[0]?.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await a.system.localStore.countPending()).toBe(0);
  });

  it('does not take a connection cut while sending a large body for a network blip forever', async () => {
    const a = await device('a', { proxy: { bodyLimit: { bytes: 100_000, answer: 'reset' } } });
    const notes = a.system.collection('notes');
    for (let i = 0; i < 100; i++) await notes.insert(note(i, 2500));
    await notes.insert({ id: 'cut-off-every-time', body: 'z'.repeat(150_000) });
    for (let i = 100; i < 110; i++) await notes.insert(note(i, 2500));

    const rounds = await syncUntilEmpty(a.system.syncManager);

    expect(rounds).toBeGreaterThan(1);
    expect(await serverIds('notes')).toHaveLength(110);
    const dead = await a.system.listDeadLetters();
    expect(dead.map((letter) => letter.change.entityId)).toEqual(['cut-off-every-time']);
    expect(dead[0]?.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(dead[0]?.error.message).toMatch(/cut off/);
  });

  it('keeps retrying a large change whose connection drops while the whole network is down', async () => {
    let networkDown = true;
    const a = await device('a', {
      wrapApi: (api) =>
        withOverrides(api, {
          push: async (request, options) => {
            if (networkDown) throw new NetworkError('offline');
            return api.push(request, options);
          },
          pull: async (params, options) => {
            if (networkDown) throw new NetworkError('offline');
            return api.pull(params, options);
          },
        }),
    });
    await a.system.collection('notes').insert({ id: 'large', body: 'z'.repeat(150_000) });

    for (let i = 0; i < 5; i++) await expect(a.system.forceSync()).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    networkDown = false;
    await a.system.forceSync();

    expect(await serverIds('notes')).toEqual(['large']);
    expect(await a.system.listDeadLetters()).toEqual([]);
  });
});

describe('a failed push does not starve the pull', () => {
  it("receives others' changes while its own push fails, and converges once the push works", async () => {
    let pushWorks = true;
    const a = await device('a');
    const b = await device('b', {
      wrapApi: (api) =>
        withOverrides(api, {
          push: async (request, options) => {
            if (!pushWorks) throw new SyncError('SERVER_ERROR', 'push is down', { status: 503 });
            return api.push(request, options);
          },
        }),
    });
    await a.system.collection('todos').insert({ id: 't1', title: 'first' });
    await syncAll([a, b]);
    pushWorks = false;
    await a.system.collection('todos').insert({ id: 't2', title: 'from a' });
    await a.system.collection('todos').update('t1', { title: 'a edits' });
    await a.system.forceSync();
    await b.system.collection('todos').update('t1', { title: 'b edits later' });

    await expect(b.system.forceSync()).rejects.toMatchObject({ code: 'SERVER_ERROR' });

    expect(await b.system.collection('todos').get('t2')).toMatchObject({ title: 'from a' });
    expect(b.system.syncManager.getState().cursor).toBeGreaterThan(0);
    expect(await b.system.localStore.countPending()).toBeGreaterThan(0);
    pushWorks = true;
    await syncAll([a, b]);
    expect(await a.todos()).toEqual(await b.todos());
    expect(await a.system.collection('todos').get('t1')).toMatchObject({ title: 'b edits later' });
  });
});

describe('entity types the server does not declare', () => {
  it('fails a write to an undeclared type at once, naming the known types, once the server has said them', async () => {
    const a = await device('a');
    // Before the first connect the device cannot know: the write is taken.
    await a.system.collection('todo').insert({ id: 'early', title: 'typo' });
    await a.system.forceSync();

    const error = await a.system
      .collection('todo')
      .insert({ title: 'typo' })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(SyncError);
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', serverCode: 'UNKNOWN_ENTITY_TYPE' });
    expect((error as Error).message).toMatch(/"todo".*"todos", "notes"/);
    expect(await a.system.collection('todo').find()).toEqual([{ id: 'early', title: 'typo' }]);

    // The rules are kept: after a restart, offline, the typo still fails at once.
    const again = await a.restart();
    await expect(again.system.collection('todo').insert({ title: 'typo' })).rejects.toMatchObject({
      serverCode: 'UNKNOWN_ENTITY_TYPE',
    });
  });

  it('dead-letters a queued change of an undeclared type; the valid changes around it reach the server', async () => {
    const a = await device('a');
    const todos = a.system.collection('todos');
    await todos.insert({ id: 'before', title: 'one' });
    await a.system.collection('todo').insert({ id: 'typo', title: 'lost?' });
    await todos.insert({ id: 'after', title: 'two' });

    await a.system.forceSync();

    expect(await serverIds('todos')).toEqual(['after', 'before']);
    const dead = await a.system.listDeadLetters();
    expect(dead.map((letter) => `${letter.change.entityType}/${letter.change.entityId}`)).toEqual(['todo/typo']);
    expect(dead[0]?.error.code).toBe('UNKNOWN_ENTITY_TYPE');
    expect(await a.system.localStore.countPending()).toBe(0);
  });
});

describe('state.pendingChanges', () => {
  for (const autoStart of [false, true]) {
    it(`is exact right after every committed write (autoStart: ${autoStart})`, async () => {
      const a = await device('a', { config: { autoStart, writeDebounceMs: 60_000 } });
      const manager = a.system.syncManager;
      await manager.ready();
      const todos = a.system.collection('todos');

      await todos.insert({ id: 't1', title: 'one' });
      expect(manager.getState().pendingChanges).toBe(1);
      await todos.insert({ id: 't2', title: 'two' });
      expect(manager.getState().pendingChanges).toBe(2);
      await todos.update('t1', { completed: true });
      expect(manager.getState().pendingChanges).toBe(3);
      await todos.delete('t2');
      expect(manager.getState().pendingChanges).toBe(4);
      await expect(todos.update('missing', { title: 'x' })).rejects.toThrow();
      expect(manager.getState().pendingChanges).toBe(4);
      await a.system.forceSync();
      expect(manager.getState().pendingChanges).toBe(0);
    });
  }
});

const LIMITS_8MB = { maxBodyBytes: 8 * 1024 * 1024, maxChangesPerPush: 500, maxPullLimit: 1000 };
