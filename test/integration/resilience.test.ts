import { signDevToken } from '@ferry/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualTimers } from '../../packages/client/src/testing/ManualTimers.js';
import { type FaultProxy, startFaultProxy } from '../support/faultProxy.js';
import { type Device, type DeviceOptions, type Harness, nextSync, SECRET, startHarness } from '../support/harness.js';

let h: Harness;
let proxy: FaultProxy;
let timers: ManualTimers;

beforeEach(async () => {
  h = await startHarness();
  proxy = await startFaultProxy(h.url);
  timers = new ManualTimers();
});

afterEach(async () => {
  await h.close();
  await proxy.close();
});

/** A device whose HTTP goes through the proxy and whose timers are virtual. */
function device(name: string, options: DeviceOptions = {}): Promise<Device> {
  return h.device(name, {
    baseUrl: proxy.url,
    ...options,
    config: { timers, retry: { random: () => 0, baseDelay: 1000 }, ...options.config },
  });
}

/** Change ids in the server's log for `user`, in order. */
async function serverLog(user = 'alice'): Promise<string[]> {
  const page = await h.server.storage.changesSince(user, { since: 0, limit: 1000 });
  return page.items.map((change) => change.id);
}

async function pendingIds(d: Device): Promise<string[]> {
  return (await d.system.changeTracker.getPendingChanges()).map((change) => change.id);
}

describe('resilience through a faulty network', () => {
  it('retries 503 then 500 on the backoff schedule and delivers every change once', async () => {
    proxy.inject('POST /v1/push', { kind: 'status', status: 503 }, { kind: 'status', status: 500 });
    const a = await device('a');
    const manager = a.system.syncManager;
    await a.system.collection('todos').insert({ id: 't1', title: 'one' });
    await a.system.collection('todos').insert({ id: 't2', title: 'two' });
    const ids = await pendingIds(a);

    await manager.triggerSync();
    expect(manager.getState().syncErrors.at(-1)?.errorCode).toBe('SERVER_ERROR');
    let synced = nextSync(manager);
    timers.advance(999);
    expect(proxy.count('POST /v1/push')).toBe(1);
    timers.advance(1);
    await synced;
    expect(proxy.count('POST /v1/push')).toBe(2);
    synced = nextSync(manager);
    timers.advance(2000); // second failure: twice the base delay
    await synced;

    expect(proxy.count('POST /v1/push')).toBe(3);
    expect(await serverLog()).toEqual(ids);
    expect(manager.getState().pendingChanges).toBe(0);
  });

  it('re-sends after a lost response and the server applies it once', async () => {
    proxy.inject('POST /v1/push', { kind: 'lose-response' });
    const a = await device('a');
    await a.system.collection('todos').insert({ id: 't1', title: 'one' });
    const ids = await pendingIds(a);

    await a.system.syncManager.triggerSync();
    expect(a.system.syncManager.getState().syncErrors.at(-1)?.errorCode).toBe('NETWORK_ERROR');
    // The server committed although the device never heard so.
    expect(await serverLog()).toEqual(ids);
    expect(await pendingIds(a)).toEqual(ids);

    const result = await a.system.forceSync();
    expect(result.push.results.map((r) => r.status)).toEqual(['duplicate']);
    expect(await serverLog()).toEqual(ids);
    expect(await pendingIds(a)).toEqual([]);
  });

  it('waits exactly as long as a 429 Retry-After says', async () => {
    proxy.inject('POST /v1/push', { kind: 'status', status: 429, headers: { 'retry-after': '7' } });
    const a = await device('a');
    await a.system.collection('todos').insert({ id: 't1', title: 'one' });
    await a.system.syncManager.triggerSync();
    expect(a.system.syncManager.getState().syncErrors.at(-1)?.errorCode).toBe('RATE_LIMITED');

    const synced = nextSync(a.system.syncManager);
    timers.advance(6_999);
    expect(proxy.count('POST /v1/push')).toBe(1);
    timers.advance(1);
    await synced;
    expect(proxy.count('POST /v1/push')).toBe(2);
    expect(await pendingIds(a)).toEqual([]);
  });

  it('survives a reset pull and a slow push with every change once', async () => {
    proxy.inject('POST /v1/pull', { kind: 'reset' });
    proxy.inject('POST /v1/push', { kind: 'delay', ms: 50 });
    const a = await device('a');
    for (let i = 0; i < 5; i++) await a.system.collection('todos').insert({ id: `t${i}`, title: `n${i}` });
    const ids = await pendingIds(a);
    await a.system.syncManager.triggerSync();
    expect(a.system.syncManager.getState().syncErrors.at(-1)?.errorCode).toBe('NETWORK_ERROR');
    const synced = nextSync(a.system.syncManager);
    timers.advance(1000);
    await synced;
    expect(await serverLog()).toEqual(ids);
    expect(a.system.syncManager.getState().syncErrors).toEqual([]);
  });

  it('converges through a storm of resets, lost responses, 5xx and 429s with every change applied once', async () => {
    const storm = [
      { kind: 'reset' },
      { kind: 'lose-response' },
      { kind: 'status', status: 503 },
      { kind: 'delay', ms: 20 },
      { kind: 'status', status: 429, headers: { 'retry-after': '1' } },
      { kind: 'lose-response' },
      { kind: 'status', status: 500 },
    ] as const;
    proxy.inject('POST /v1/push', ...storm);
    proxy.inject('POST /v1/pull', ...storm);
    const a = await device('a', { config: { batchSize: 3 } });
    const b = await device('b', { config: { batchSize: 3 } });
    const written: string[] = [];
    for (let i = 0; i < 8; i++) {
      for (const d of [a, b]) {
        await d.system.collection('todos').insert({ id: `${d.name}-${i}`, title: `${d.name} ${i}` });
        written.push(...(await pendingIds(d)).filter((id) => !written.includes(id)));
      }
    }
    // Explicit syncs, failures and all, until both devices settle (bounded).
    for (let round = 0; round < 30; round++) {
      for (const d of [a, b]) await d.system.forceSync().catch(() => undefined);
      const settled = (await pendingIds(a)).length + (await pendingIds(b)).length === 0;
      if (settled && proxy.log.slice(-2).every((entry) => entry.fault === null)) break;
    }
    await a.system.forceSync();
    await b.system.forceSync();
    const log = await serverLog();
    expect(new Set(log).size).toBe(log.length);
    expect([...log].sort()).toEqual([...written].sort());
    expect(await a.todos()).toEqual(await b.todos());
    expect(await a.todos()).toHaveLength(16);
  });

  it('dead-letters a poison change while the others sync, and lets the app retry or discard it', async () => {
    const a = await device('a');
    const b = await h.device('b');
    const heard: string[][] = [];
    a.system.subscribeToDeadLetters((list) => heard.push(list.map((entry) => entry.change.id)));
    await a.system.collection('todos').insert({ id: 'good-1', title: 'fine' });
    const poison = await a.system.changeTracker.trackChange('todos', 'bad', 'CREATE', { title: 42 });
    await a.system.collection('todos').insert({ id: 'good-2', title: 'fine too' });

    await a.system.forceSync();
    const dead = await a.system.listDeadLetters();
    expect(dead.map((entry) => [entry.change.id, entry.error.code])).toEqual([[poison.id, 'VALIDATION_ERROR']]);
    expect(await pendingIds(a)).toEqual([]);
    await b.system.forceSync();
    expect((await b.todos()).map((todo) => todo.id)).toEqual(['good-1', 'good-2']);
    expect(heard.at(-1)).toEqual([poison.id]);

    // Retried while still invalid: it goes round once and lands back in the list, not in a loop.
    expect(await a.system.retryDeadLetter(poison.id)).toBe(true);
    await a.system.forceSync();
    expect((await a.system.listDeadLetters()).map((entry) => entry.change.id)).toEqual([poison.id]);
    expect(proxy.count('POST /v1/push')).toBe(2);

    expect(await a.system.discardDeadLetter(poison.id)).toBe(true);
    expect(await a.system.discardDeadLetter(poison.id)).toBe(false);
    expect(await a.system.listDeadLetters()).toEqual([]);
    expect(heard.at(-1)).toEqual([]);
  });
});

describe('auth expiry', () => {
  const expired = () => signDevToken(SECRET, 'alice', { now: Date.now() - 2 * 3600_000, expiresIn: 3600 });
  const fresh = () => signDevToken(SECRET, 'alice', { expiresIn: '1h' });

  it('refreshes the token once and resumes by itself when the new one works', async () => {
    const [old, renewed] = [await expired(), await fresh()];
    const asked: boolean[] = [];
    let current = old;
    const a = await device('a', {
      // Like a real provider: a forced refresh replaces the cached token.
      getToken: ({ forceRefresh }) => {
        asked.push(forceRefresh);
        if (forceRefresh) current = renewed;
        return current;
      },
    });
    await a.system.collection('todos').insert({ id: 't1', title: 'one' });
    await a.system.syncManager.triggerSync();
    expect(a.system.syncManager.getState().paused).toBe('auth');

    const synced = nextSync(a.system.syncManager);
    timers.advance(0);
    await synced;
    // Other requests (config) may ask too; a forced refresh is asked exactly once.
    expect(asked.filter(Boolean)).toEqual([true]);
    expect(a.system.syncManager.getState().paused).toBeNull();
    expect(await pendingIds(a)).toEqual([]);
  });

  it('pauses instead of looping while no token works, then resumes when one does', async () => {
    let token = await expired();
    const asked: boolean[] = [];
    const a = await device('a', {
      getToken: ({ forceRefresh }) => {
        asked.push(forceRefresh);
        return token;
      },
    });
    const manager = a.system.syncManager;
    await a.system.collection('todos').insert({ id: 't1', title: 'one' });
    await manager.triggerSync();
    const probe = nextSync(manager);
    timers.advance(0);
    await probe;
    expect(asked.filter(Boolean)).toEqual([true]);
    expect(manager.getState().paused).toBe('auth');
    const askedBefore = asked.length;

    // An hour of virtual time and more triggers: not one request more.
    timers.advance(3600_000);
    await manager.triggerSync();
    expect(proxy.count('POST /v1/push')).toBe(2);
    expect(asked).toHaveLength(askedBefore);

    token = await fresh();
    await manager.resume();
    expect(manager.getState().paused).toBeNull();
    expect(await pendingIds(a)).toEqual([]);
    expect(await serverLog()).toHaveLength(1);
  });
});
