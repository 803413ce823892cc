import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBetterSqliteDriver } from '../drivers/better-sqlite3.js';
import { SyncError } from '../errors.js';
import { LocalStore } from '../store/LocalStore.js';
import { ChangeTracker } from '../tracking/ChangeTracker.js';
import { Collection } from './Collection.js';

type Todo = { title: string; completed: boolean; order?: number };

let dir: string;
let store: LocalStore;
let tracker: ChangeTracker;
let todos: Collection<Todo>;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-collection-'));
  store = await LocalStore.open(createBetterSqliteDriver(join(dir, 'app.db')));
  tracker = new ChangeTracker(store, 'device-a');
  todos = new Collection<Todo>('todos', tracker);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Collection', () => {
  it('inserts with a generated id, queues one CREATE, and reads it back', async () => {
    const todo = await todos.insert({ title: 'Milk', completed: false });
    expect(todo.id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(await todos.get(todo.id)).toEqual({ id: todo.id, title: 'Milk', completed: false });
    const pending = await tracker.getPendingChanges();
    expect(pending.map((change) => [change.operation, change.entityId, change.data])).toEqual([
      ['CREATE', todo.id, { title: 'Milk', completed: false }],
    ]);
  });

  it('refuses to insert over a live record and changes nothing', async () => {
    await todos.insert({ id: 't1', title: 'first', completed: false });
    await expect(todos.insert({ id: 't1', title: 'second', completed: true })).rejects.toThrow(SyncError);
    expect(await todos.get('t1')).toEqual({ id: 't1', title: 'first', completed: false });
    expect(await store.countPending()).toBe(1);
  });

  it('updates some fields as a patch, and refuses to update a missing record', async () => {
    await todos.insert({ id: 't1', title: 'first', completed: false });
    expect(await todos.update('t1', { completed: true })).toEqual({ id: 't1', title: 'first', completed: true });
    const [, update] = await tracker.getPendingChanges();
    expect(update).toMatchObject({ operation: 'UPDATE', data: { completed: true }, version: 2 });
    await expect(todos.update('nope', { completed: true })).rejects.toThrow(/No todos "nope"/);
    expect(await store.countPending()).toBe(2);
  });

  it('deletes into a tombstone; deleting again or a missing record queues nothing; insert revives', async () => {
    await todos.insert({ id: 't1', title: 'first', completed: false });
    await todos.delete('t1');
    await todos.delete('t1');
    await todos.delete('never-existed');
    expect(await todos.get('t1')).toBeNull();
    expect((await tracker.getPendingChanges()).map((change) => change.operation)).toEqual(['CREATE', 'DELETE']);
    await todos.insert({ id: 't1', title: 'again', completed: false });
    expect(await todos.get('t1')).toEqual({ id: 't1', title: 'again', completed: false });
  });

  it('finds by field equality, ordered', async () => {
    await todos.insert({ id: 'a', title: 'c', completed: false, order: 3 });
    await todos.insert({ id: 'b', title: 'a', completed: true, order: 1 });
    await todos.insert({ id: 'c', title: 'b', completed: false, order: 2 });
    const open = await todos.find({ where: { completed: false }, orderBy: 'order' });
    expect(open.map((todo) => todo.id)).toEqual(['c', 'a']);
    const byTitleDesc = await todos.find({ orderBy: 'title', order: 'desc', limit: 2 });
    expect(byTitleDesc.map((todo) => todo.title)).toEqual(['c', 'b']);
  });

  it('counts in one space (or the private one) when asked, live', async () => {
    const space = 'sp_groceries0001';
    await todos.insert({ id: 'p1', title: 'private', completed: false });
    await todos.insert({ id: 's1', title: 'milk', completed: false }, { space });
    await todos.insert({ id: 's2', title: 'bread', completed: true }, { space });
    expect(await todos.count()).toBe(3);
    expect(await todos.count({}, { space })).toBe(2);
    expect(await todos.count({ completed: false }, { space })).toBe(1);
    expect(await todos.count({}, { space: null })).toBe(1);
    const live = todos.countQuery({ completed: false }, { space });
    const seen: number[] = [];
    const stop = live.subscribe((n) => seen.push(n));
    await expect.poll(() => seen).toEqual([1]);
    await todos.insert({ id: 'p2', title: 'private too', completed: false });
    await todos.insert({ id: 's3', title: 'eggs', completed: false }, { space });
    await expect.poll(() => seen).toEqual([1, 2]);
    stop();
    await expect(todos.count({}, { space: 'not-a-space' })).rejects.toThrow(/space must be a shared space id/);
  });

  it('notifies subscribers after commits that touch it, not for other collections', async () => {
    let calls = 0;
    const unsubscribe = todos.subscribe(() => {
      calls++;
    });
    await todos.insert({ id: 't1', title: 'x', completed: false });
    await new Collection('notes', tracker).insert({ id: 'n1', body: 'other' });
    await expect(todos.update('missing', { title: 'y' })).rejects.toThrow();
    expect(calls).toBe(1);
    unsubscribe();
    await todos.update('t1', { title: 'y' });
    expect(calls).toBe(1);
  });

  it('rejects bad input with a clear error', async () => {
    await expect(todos.insert(null as unknown as Todo)).rejects.toThrow(/needs an object/);
    await expect(todos.insert({ id: 7 } as unknown as Todo)).rejects.toThrow(/must be a string/);
    await expect(todos.update('t1', [] as unknown as Partial<Todo>)).rejects.toThrow(/needs an object/);
    expect(await store.countPending()).toBe(0);
  });
});
