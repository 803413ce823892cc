import { HybridLogicalClock } from '@ferry/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness, syncAll } from '../support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

describe('concurrent edits', () => {
  it('last-write-wins on the hybrid clock: the later edit wins on every replica', async () => {
    const [a, b] = await Promise.all([h.device('dev-a'), h.device('dev-b')]);
    await a.system.collection('todos').insert({ id: 't1', title: 'original' });
    await syncAll([a, b]);
    // Both edit offline; b edits later. a pushes first, so b meets the conflict.
    await a.system.collection('todos').update('t1', { title: 'from a' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await b.system.collection('todos').update('t1', { title: 'from b' });
    await syncAll([a, b]);
    expect(await a.todos()).toEqual([{ id: 't1', title: 'from b' }]);
    expect(await b.todos()).toEqual(await a.todos());
  });

  it('the earlier edit loses even when its device pushes last', async () => {
    const [a, b] = await Promise.all([h.device('dev-a'), h.device('dev-b')]);
    await a.system.collection('todos').insert({ id: 't1', title: 'original', completed: false });
    await syncAll([a, b]);
    await a.system.collection('todos').update('t1', { title: 'early' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await b.system.collection('todos').update('t1', { title: 'late' });
    await b.system.forceSync();
    await a.system.forceSync();
    await syncAll([a, b]);
    expect((await a.todos())[0]).toMatchObject({ title: 'late' });
    expect(await b.todos()).toEqual(await a.todos());
  });

  it('update against delete converges to the later one', async () => {
    const [a, b] = await Promise.all([h.device('dev-a'), h.device('dev-b')]);
    await a.system.collection('todos').insert({ id: 't1', title: 'x' });
    await syncAll([a, b]);
    await a.system.collection('todos').delete('t1');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await b.system.collection('todos').update('t1', { title: 'edited after the delete' });
    await syncAll([a, b]);
    expect(await a.todos()).toEqual([{ id: 't1', title: 'edited after the delete' }]);
    expect(await b.todos()).toEqual(await a.todos());
  });

  it('a device whose clock runs 48 h ahead cannot win against later real edits', async () => {
    const ahead = new HybridLogicalClock('dev-skew', { now: () => Date.now() + 48 * 3_600_000 });
    const skewed = await h.device('dev-skew', { config: {} });
    // Rebuild the skewed device's tracker clock: trackers take an injected clock.
    const { ChangeTracker } = await import('@ferry/client');
    const tracker = new ChangeTracker(skewed.system.localStore, 'dev-skew', { clock: ahead });
    const honest = await h.device('dev-honest');
    await tracker.trackChange('todos', 't1', 'CREATE', { title: 'from the future' });
    await skewed.system.forceSync();
    await honest.system.forceSync();
    await honest.system.collection('todos').update('t1', { title: 'real later edit' });
    await syncAll([skewed, honest]);
    expect(await honest.todos()).toEqual([{ id: 't1', title: 'real later edit' }]);
    expect(await skewed.todos()).toEqual(await honest.todos());
  });
});
