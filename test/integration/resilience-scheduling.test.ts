/**
 * SyncManager scheduling against the real server: one sync at a time, triggers coalescing into
 * one follow-up, pauses while offline or backgrounded, stop() cancelling in-flight requests,
 * and the progress feed through success and failure. Timers are virtual; a gate holds a sync
 * open where a test needs one in flight.
 */
import type { SyncManager, SyncProgressState } from '@ferry/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualTimers } from '../../packages/client/src/testing/ManualTimers.js';
import { type FaultProxy, startFaultProxy } from '../support/faultProxy.js';
import { type Harness, startHarness, withOverrides } from '../support/harness.js';

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

/** Counts syncs that start on `manager`. */
function countSyncs(manager: SyncManager): { readonly started: number } {
  const counter = { started: 0 };
  let running = false;
  manager.subscribe((state) => {
    if (state.syncInProgress && !running) counter.started++;
    running = state.syncInProgress;
  });
  return counter;
}

/** A pull that waits for `open()` before it goes out: a sync held in flight. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  let waiting = 0;
  return { opened, open: () => open(), waiting: () => waiting, enter: () => waiting++ };
}

async function device(name: string, pullGate?: ReturnType<typeof gate>) {
  return h.device(name, {
    baseUrl: proxy.url,
    config: { timers, retry: { random: () => 0, baseDelay: 10_000 } },
    ...(pullGate && {
      wrapApi: (api) =>
        withOverrides(api, {
          pull: async (params, options) => {
            pullGate.enter();
            await pullGate.opened;
            return api.pull(params, options);
          },
        }),
    }),
  });
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!check()) throw new Error(`Timed out waiting for ${what}`);
}

describe('SyncManager scheduling', () => {
  it('runs one sync at a time and coalesces triggers during it into exactly one follow-up', async () => {
    const held = gate();
    const a = await device('a', held);
    const manager = a.system.syncManager;
    const syncs = countSyncs(manager);
    const first = manager.triggerSync();
    await until(() => held.waiting() === 1, 'the first pull to be held');
    const during = [manager.triggerSync(), manager.triggerSync(), manager.triggerSync()];
    await a.system.collection('todos').insert({ id: 'mid', title: 'written during the sync' });
    held.open();
    await Promise.all([first, ...during]);
    expect(syncs.started).toBe(2);
    expect(held.waiting()).toBe(2);
    expect(manager.getState().pendingChanges).toBe(0);
  });

  it('ignores triggers while offline or backgrounded and syncs when both come back', async () => {
    const a = await device('a');
    const manager = a.system.syncManager;
    manager.start();
    const syncs = countSyncs(manager);
    manager.online.set(false);
    expect(manager.getState()).toMatchObject({ isOnline: false, paused: 'offline' });
    await a.system.collection('todos').insert({ id: 't1', title: 'offline write' });
    await manager.triggerSync();
    manager.appActive.set(false);
    await manager.triggerSync();
    expect(syncs.started).toBe(0);
    expect(proxy.log.filter((entry) => entry.path !== '/v1/config')).toEqual([]);

    manager.online.set(true); // still in the background
    await manager.triggerSync();
    expect(syncs.started).toBe(0);
    expect(manager.getState().paused).toBe('background');

    manager.appActive.set(true);
    await until(() => syncs.started === 1 && !manager.getState().syncInProgress, 'the foreground sync');
    expect(manager.getState()).toMatchObject({ paused: null, pendingChanges: 0 });
  });

  it('stop() cancels the in-flight request instead of waiting for it', async () => {
    proxy.inject('POST /v1/pull', { kind: 'delay', ms: 3000 });
    const a = await device('a');
    const manager = a.system.syncManager;
    const sync = manager.performFullSync().catch((error: Error) => error);
    await until(() => proxy.count('POST /v1/pull') === 1, 'the pull to be in flight');
    await manager.stop();
    const error = await sync;
    // Cancelled, not timed out (the transport's timeout is 5 s, the proxy holds 3 s).
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(manager.getState()).toMatchObject({ syncInProgress: false, syncErrors: [] });
    expect(manager.getProgress().phase).toBe('idle');
    await manager.triggerSync();
    expect(proxy.count('POST /v1/pull')).toBe(1);
  });
});

describe('going offline', () => {
  it('cancels the request in flight, records no failure, and syncs again once back online', async () => {
    proxy.inject('POST /v1/push', { kind: 'delay', ms: 3000 });
    const a = await device('a');
    const manager = a.system.syncManager;
    manager.start();
    await a.system.collection('todos').insert({ id: 't1', title: 'written before the tunnel' });
    const sync = manager.performFullSync().catch((error: Error) => error);
    await until(() => proxy.count('POST /v1/push') === 1, 'the push to be in flight');
    manager.online.set(false);
    const error = await sync;
    // Cancelled at once, not timed out (the transport's timeout is 5 s, the proxy holds 3 s).
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(manager.getState()).toMatchObject({ syncInProgress: false, syncErrors: [], isOnline: false });
    expect(manager.getProgress().phase).toBe('idle');
    expect(timers.delays).toEqual([]); // no retry scheduled: the way back is the online signal

    manager.online.set(true);
    await until(() => manager.getState().pendingChanges === 0 && !manager.getState().syncInProgress, 'the sync');
    expect(await h.server.storage.getRecord('alice', 'todos', 't1')).toMatchObject({
      data: { title: 'written before the tunnel' },
    });
  });
});

describe('progress feed', () => {
  const phases = (feed: SyncProgressState[]) => feed.map((p) => `${p.phase}:${p.processedItems}/${p.totalItems}`);

  it('goes preparing → uploading → downloading → complete → idle', async () => {
    const a = await device('a');
    const feed: SyncProgressState[] = [];
    a.system.syncManager.subscribeToProgress((progress) => feed.push(progress));
    await a.system.collection('todos').insert({ id: 't1', title: 'one' });
    await a.system.collection('todos').insert({ id: 't2', title: 'two' });
    await a.system.syncManager.triggerSync();
    expect(phases(feed)).toEqual([
      'preparing:0/0',
      'uploading:0/2',
      'uploading:2/2',
      'downloading:0/0',
      'downloading:2/2',
      'complete:4/4',
    ]);
    expect(feed[1]?.currentItem).toBe('todos/t1');
    timers.advance(1499);
    expect(feed.at(-1)?.phase).toBe('complete');
    timers.advance(1);
    expect(feed.at(-1)).toEqual({ phase: 'idle', totalItems: 0, processedItems: 0 });
  });

  it('goes preparing → error (with the message) → idle when a sync fails', async () => {
    proxy.inject('POST /v1/push', { kind: 'status', status: 503 });
    const a = await device('a');
    const feed: SyncProgressState[] = [];
    a.system.syncManager.subscribeToProgress((progress) => feed.push(progress));
    await a.system.collection('todos').insert({ id: 't1', title: 'one' });
    await a.system.syncManager.triggerSync();
    // The failed push does not skip the pull (it still downloads: one request, nothing new), and
    // the cycle ends in error.
    expect(feed.map((p) => p.phase)).toEqual(['preparing', 'uploading', 'downloading', 'error']);
    expect(feed.at(-1)?.error).toMatch(/503/);
    timers.advance(1500);
    expect(feed.at(-1)?.phase).toBe('idle');
  });
});
