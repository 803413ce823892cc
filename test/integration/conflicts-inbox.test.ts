/**
 * The `manual` strategy over a real server: a conflict nobody decides is parked in the
 * device's persisted inbox, its entity's changes are held while the rest of the queue
 * syncs, and a decision made later (even after a restart) becomes a change every device gets.
 */
import type { ConflictInfo } from '@ferry/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BASE, type ConflictDevice, type ConflictWorld, editAt, startWorld } from '../support/conflictDevices.js';
import { syncAll as settle } from '../support/harness.js';

let world: ConflictWorld;
let a: ConflictDevice;
let b: ConflictDevice;

beforeEach(async () => {
  world = await startWorld();
  a = await world.device('dev-a', { conflictStrategy: 'manual' });
  b = await world.device('dev-b', { conflictStrategy: 'manual' });
  await editAt(a, BASE, 't1', 'CREATE', { title: 'original', completed: false });
  await settle([a, b]);
  // Both edit t1 offline; a pushes first, so b meets the conflict.
  await editAt(a, BASE + 10, 't1', 'UPDATE', { title: 'from a' });
  await editAt(b, BASE + 20, 't1', 'UPDATE', { title: 'from b' });
  await a.system.forceSync();
});
afterEach(async () => {
  await world.close();
});

async function serverTodo(id: string) {
  const records = await a.system.remoteAPI.getAll('todos');
  return records.find((record) => record.entityId === id)?.data;
}

describe('manual conflicts without a decision', () => {
  it('are parked in the inbox of the device that met them, with both sides', async () => {
    let heard = 0;
    b.system.subscribeToConflicts(() => heard++);
    await b.system.forceSync();

    const conflicts = await b.system.listConflicts();
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toMatchObject({
      entityType: 'todos',
      entityId: 't1',
      conflictType: 'update-update',
      conflictingFields: ['title'],
      local: { data: { title: 'from b', completed: false } },
      server: { data: { title: 'from a', completed: false } },
    });
    expect(heard).toBeGreaterThan(0);
    expect(await a.system.listConflicts()).toEqual([]);
    // b keeps its own state meanwhile; the server keeps a's.
    expect(await b.todos()).toEqual([{ id: 't1', title: 'from b', completed: false }]);
    expect(await serverTodo('t1')).toEqual({ title: 'from a', completed: false });
  });

  it('hold back only their entity: other changes keep syncing', async () => {
    await b.system.forceSync();
    await editAt(b, BASE + 30, 't2', 'CREATE', { title: 'unrelated', completed: false });
    await b.system.forceSync();
    await a.system.forceSync();
    expect(await a.todos()).toEqual([
      { id: 't1', title: 'from a', completed: false },
      { id: 't2', title: 'unrelated', completed: false },
    ]);
    expect(await serverTodo('t1')).toEqual({ title: 'from a', completed: false });
    // The held change is still there, waiting for the decision.
    expect(await b.system.localStore.countPending()).toBe(1);
  });

  it('take in a further edit of the parked entity instead of pushing it', async () => {
    await b.system.forceSync();
    await editAt(b, BASE + 40, 't1', 'UPDATE', { completed: true });
    await b.system.forceSync();
    const conflicts = await b.system.listConflicts();
    expect(conflicts.map((c) => c.local.data)).toEqual([{ title: 'from b', completed: true }]);
    expect(conflicts[0]?.conflictingFields).toEqual(['completed', 'title']);
    expect(await serverTodo('t1')).toEqual({ title: 'from a', completed: false });
    expect(await b.system.localStore.countPending()).toBe(2);
  });

  it('survive a restart and are resolved there; the decision reaches the other device', async () => {
    await b.system.forceSync();
    b = await b.restart();
    await b.system.forceSync();
    const [parked] = await b.system.listConflicts();
    expect(parked?.entityId).toBe('t1');

    let heard = 0;
    const unsubscribe = b.system.subscribeToConflicts(() => heard++);
    await b.system.resolveConflict(parked!.id, { winner: 'merged', data: { title: 'from a and b', completed: true } });
    unsubscribe();
    expect(heard).toBe(1);
    expect(await b.system.listConflicts()).toEqual([]);
    await settle([a, b]);
    const expected = [{ id: 't1', title: 'from a and b', completed: true }];
    expect(await b.todos()).toEqual(expected);
    expect(await a.todos()).toEqual(expected);
    expect(await serverTodo('t1')).toEqual({ title: 'from a and b', completed: true });
  });

  it.each([
    ['local', 'from b'],
    ['server', 'from a'],
  ] as const)('resolved for %s, end with that side on every replica', async (winner, title) => {
    await b.system.forceSync();
    const [parked] = await b.system.listConflicts();
    await b.system.resolveConflict(parked!.id, { winner });
    await settle([a, b]);
    const expected = [{ id: 't1', title, completed: false }];
    expect(await a.todos()).toEqual(expected);
    expect(await b.todos()).toEqual(expected);
    expect(await b.system.localStore.countPending()).toBe(0);
  });

  it('whose entity the server deleted and then forgot (compaction) are decided for the server as a deletion', async () => {
    await b.system.forceSync();
    await editAt(a, BASE + 30, 't1', 'DELETE', null);
    await a.system.forceSync();
    await world.server.storage.compact({ tombstonesBefore: Date.now() + 1 });
    // b's cursor is behind the horizon: a reset from a snapshot that no longer has t1 at all.
    await b.system.forceSync();
    const [parked] = await b.system.listConflicts();
    expect(parked).toMatchObject({ entityId: 't1', conflictType: 'update-delete', server: { deleted: true } });
    await b.system.resolveConflict(parked!.id, { winner: 'server' });
    await settle([a, b]);
    expect(await b.todos()).toEqual([]);
    expect(await a.todos()).toEqual([]);
    expect(await b.system.localStore.countPending()).toBe(0);
  });

  it('keep the clock past a decision, so a restart never reissues its stamp', async () => {
    await b.system.forceSync();
    const [parked] = await b.system.listConflicts();
    await b.system.resolveConflict(parked!.id, { winner: 'local' });
    const [decision] = await b.system.changeTracker.getPendingChanges();
    b = await b.restart();
    const next = await editAt(b, BASE, 't9', 'CREATE', { title: 'after restart', completed: false });
    expect(decision!.id < next.id).toBe(true);
  });

  it('refuse an unknown id or a malformed decision, changing nothing', async () => {
    await b.system.forceSync();
    const before = await b.system.listConflicts();
    await expect(b.system.resolveConflict('todos:nope', { winner: 'local' })).rejects.toThrow(
      /No conflict "todos:nope" in the inbox/,
    );
    await expect(b.system.resolveConflict(before[0]!.id, { winner: 'merged' })).rejects.toThrow(/needs `data`/);
    await expect(
      b.system.resolveConflict(before[0]!.id, { winner: 'nobody' } as unknown as { winner: 'local' }),
    ).rejects.toThrow(/winner: 'local' \| 'server' \| 'merged'/);
    await expect(b.system.resolveConflict(before[0]!.id, { winner: 'merged', data: { 'bad key': 1 } })).rejects.toThrow(
      /Invalid data/,
    );
    expect(await b.system.listConflicts()).toEqual(before);
    expect(await b.system.localStore.countPending()).toBe(1);
    expect(await b.todos()).toEqual([{ id: 't1', title: 'from b', completed: false }]);
  });
});

describe('manual conflicts with a callback', () => {
  it('apply what an async callback decides, at once', async () => {
    const seen: ConflictInfo[] = [];
    b.system.conflictResolver.setManualResolutionCallback(async (conflict) => {
      seen.push(conflict);
      await new Promise((resolve) => setImmediate(resolve)); // a dialog, say
      return {
        winner: 'merged',
        resolvedData: { title: 'decided', completed: true },
        deleted: false,
        strategy: 'manual',
      };
    });
    await b.system.forceSync();
    expect(seen.map((c) => [c.entityId, c.conflictType])).toEqual([['t1', 'update-update']]);
    expect(await b.system.listConflicts()).toEqual([]);
    await settle([a, b]);
    expect(await a.todos()).toEqual([{ id: 't1', title: 'decided', completed: true }]);
    expect(await b.todos()).toEqual(await a.todos());
  });

  it('park the conflict when the callback defers', async () => {
    b.system.conflictResolver.setManualResolutionCallback(async () => undefined);
    await b.system.forceSync();
    expect((await b.system.listConflicts()).map((c) => c.entityId)).toEqual(['t1']);
    expect(await serverTodo('t1')).toEqual({ title: 'from a', completed: false });
  });

  it('park a delete against an update as delete-update', async () => {
    await editAt(b, BASE + 30, 't1', 'DELETE', null);
    await b.system.forceSync();
    const [parked] = await b.system.listConflicts();
    expect(parked).toMatchObject({ conflictType: 'delete-update', conflictingFields: [] });
    expect(parked?.local.deleted).toBe(true);
  });
});
