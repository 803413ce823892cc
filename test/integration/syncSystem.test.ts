/**
 * The one object an app sees: `collection`, `write`, `sync`, `status`, `conflicts`,
 * `deadLetters`. A real server on 127.0.0.1 and real SQLite devices.
 */
import { SyncError } from '@ferry/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness.js';

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

async function serverRecords(type: string) {
  const page = await h.server.storage.pull('alice', { cursor: 0, limit: 100, types: [type] });
  return page.items.map((record) => ({ id: record.entityId, deleted: record.deleted, data: record.data }));
}

describe('sync.write(async (tx) => …)', () => {
  it('commits several records and their outbox entries in one transaction, heard once', async () => {
    const { system } = await h.device('a');
    const commits: number[] = [];
    system.localStore.subscribe((event) => commits.push(event.pendingChanges ?? -1));

    const ids = await system.write(async (tx) => {
      const note = await tx.collection('notes').insert({ text: 'shopping' });
      await tx.collection('todos').insert({ id: 't1', title: 'milk' });
      await tx.collection('todos').update('t1', { completed: true });
      expect(await tx.collection('todos').get('t1')).toEqual({ id: 't1', title: 'milk', completed: true });
      return [note.id, 't1'];
    });

    expect(commits).toEqual([3]);
    expect(system.status.state.pendingChanges).toBe(3);
    await system.sync();
    expect((await serverRecords('notes')).map((record) => record.id)).toEqual([ids[0]]);
    expect(await serverRecords('todos')).toEqual([
      { id: 't1', deleted: false, data: { title: 'milk', completed: true } },
    ]);
  });

  it('writes nothing at all when the function throws', async () => {
    const { system } = await h.device('a');
    await system.collection('todos').insert({ id: 'kept', title: 'before' });

    const failed = system.write(async (tx) => {
      await tx.collection('todos').insert({ id: 't2', title: 'half' });
      await tx.collection('todos').delete('kept');
      await tx.collection('todos').update('missing', { title: 'x' });
    });

    await expect(failed).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(await system.collection('todos').find()).toEqual([{ id: 'kept', title: 'before' }]);
    expect(await system.localStore.countPending()).toBe(1);
    expect(system.status.state.pendingChanges).toBe(1);
  });
});

describe('sync()', () => {
  it('resolves with the result of the cycle it joined, which carries writes made before the call', async () => {
    const { system } = await h.device('a');
    await system.collection('todos').insert({ id: 't1', title: 'one' });
    const first = system.sync();
    await system.collection('todos').insert({ id: 't2', title: 'two' });

    const joined = await system.sync();
    await first;

    expect(system.status.state.pendingChanges).toBe(0);
    expect(joined.pull.cursor).toBe(2);
    expect((await serverRecords('todos')).map((record) => record.id)).toEqual(['t1', 't2']);
  });
});

describe('status, conflicts and deadLetters', () => {
  it('are one observable status and two inboxes with list / retry / discard / resolve / subscribe', async () => {
    const { system } = await h.device('a');
    const heard: number[] = [];
    const stop = system.status.subscribe((state) => heard.push(state.pendingChanges));
    const letters: string[][] = [];
    system.deadLetters.subscribe((list) => letters.push(list.map((letter) => letter.change.entityId)));

    // The server's schema says a todo's title is a string: refused for good.
    await system.changeTracker.trackChange('todos', 'bad', 'CREATE', { title: 42 });
    await system.sync();

    expect(heard).toContain(1);
    expect(system.status.state.pendingChanges).toBe(0);
    expect(system.status.progress.phase).toBe('complete');
    const [letter] = await system.deadLetters.list();
    expect(letter?.change.entityId).toBe('bad');
    expect(letters.at(-1)).toEqual(['bad']);
    expect(await system.deadLetters.retry(letter!.change.id)).toBe(true);
    await system.sync();
    expect(await system.deadLetters.list()).toHaveLength(1);
    expect(await system.deadLetters.discard(letter!.change.id)).toBe(true);
    expect(await system.deadLetters.list()).toEqual([]);
    expect(await system.conflicts.list()).toEqual([]);
    await expect(system.conflicts.resolve('nope', { winner: 'local' })).rejects.toBeInstanceOf(SyncError);
    stop();
  });
});

describe('localStore.upsert / delete', () => {
  it('are recorded writes that sync, with a tombstone for a delete', async () => {
    const { system } = await h.device('a');

    await system.localStore.upsert('todos', 't1', { title: 'via the store' });
    await system.localStore.upsert('todos', 't1', { completed: true });
    expect(system.status.state.pendingChanges).toBe(2);
    await system.sync();
    expect(await serverRecords('todos')).toEqual([
      { id: 't1', deleted: false, data: { title: 'via the store', completed: true } },
    ]);

    await system.localStore.delete('todos', 't1');
    await system.sync();
    expect(await serverRecords('todos')).toMatchObject([{ id: 't1', deleted: true }]);
    expect(await system.collection('todos').get('t1')).toBeNull();
  });
});
