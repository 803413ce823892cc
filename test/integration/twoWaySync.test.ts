import { ConflictResolver, PullSyncStrategy, PushSyncStrategy, TwoWaySyncStrategy } from '@ferry/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness, syncAll } from '../support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

describe('TwoWaySyncStrategy', () => {
  it('detects and resolves a conflict before pushing, so the push carries the resolution', async () => {
    const [a, b] = await Promise.all([h.device('dev-a'), h.device('dev-b')]);
    await a.system.collection('todos').insert({ id: 't1', title: 'original', completed: false });
    await syncAll([a, b]);
    // a edits offline; b edits later and pushes first.
    await a.system.collection('todos').update('t1', { title: 'from a' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await b.system.collection('todos').update('t1', { title: 'from b' });
    await b.system.forceSync();

    const resolver = new ConflictResolver('last-write-wins');
    const { remoteAPI, changeTracker } = a.system;
    const twoWay = new TwoWaySyncStrategy(
      new PushSyncStrategy(remoteAPI, changeTracker, { conflictResolver: resolver }),
      new PullSyncStrategy(remoteAPI, changeTracker, { conflictResolver: resolver }),
      resolver,
    );
    const result = await twoWay.sync();

    expect(result.conflictsResolved).toBe(1);
    expect(result.pullResult.conflicts).toBe(1);
    // Found before the push: the server never had to report it.
    expect(result.pushResult.conflicts).toBe(0);
    expect(await a.system.changeTracker.getPendingChanges()).toEqual([]);
    await syncAll([a, b]);
    expect(await a.todos()).toEqual([{ id: 't1', title: 'from b', completed: false }]);
    expect(await b.todos()).toEqual(await a.todos());
  });

  it('a stale copy is not a conflict: a device that only lags takes the server state', async () => {
    const [a, b] = await Promise.all([h.device('dev-a'), h.device('dev-b')]);
    await a.system.collection('todos').insert({ id: 't1', title: 'original' });
    await syncAll([a, b]);
    await b.system.collection('todos').update('t1', { title: 'newer' });
    await b.system.forceSync();
    await a.system.collection('todos').insert({ id: 't2', title: 'unrelated' });

    const resolver = new ConflictResolver('client-wins');
    const { remoteAPI, changeTracker } = a.system;
    const result = await new TwoWaySyncStrategy(
      new PushSyncStrategy(remoteAPI, changeTracker, { conflictResolver: resolver }),
      new PullSyncStrategy(remoteAPI, changeTracker, { conflictResolver: resolver }),
      resolver,
    ).sync();

    expect(result.conflictsResolved).toBe(0);
    expect(result.pushResult.successful).toBe(1);
    expect(await a.todos()).toEqual([
      { id: 't1', title: 'newer' },
      { id: 't2', title: 'unrelated' },
    ]);
  });
});
