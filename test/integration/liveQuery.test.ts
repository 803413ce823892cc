/**
 * Reactive queries on real parts: devices on SQLite files, a Ferry server on 127.0.0.1. A
 * watched query re-runs only after a committed write (local or pulled) to a type it reads,
 * delivers after the commit, skips unchanged results, and costs nothing unwatched.
 */
import type { LiveQuery, SqlDriver } from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { defaultSchema } from '@ferry/server';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

/** Collects a live query's deliveries; `next()` returns the next one not yet taken, waiting (bounded) for it. */
function watch<R>(query: LiveQuery<R>) {
  const results: R[] = [];
  const errors: Error[] = [];
  let taken = 0;
  const stop = query.subscribe(
    (result) => results.push(result),
    (error) => errors.push(error),
  );
  return {
    results,
    errors,
    stop,
    async next(): Promise<R> {
      const count = ++taken;
      for (let i = 0; i < 500 && results.length < count; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      if (results.length < count) throw new Error(`No delivery number ${count} within 5 s (got ${results.length})`);
      return results[count - 1] as R;
    },
  };
}

/** Lets every pending run finish: a delivery that is coming would have come by then. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

/** A driver over the real SQLite file that counts the statements reading the todos type. */
function countingDriver(path: string): { driver: SqlDriver; reads: () => number } {
  const inner = createBetterSqliteDriver(path);
  let reads = 0;
  const driver: SqlDriver = {
    execute(sql, params) {
      if (/FROM ferry_entities WHERE entity_type = 'todos'/.test(sql)) reads++;
      return inner.execute(sql, params);
    },
    transaction: (fn) => inner.transaction(fn),
    close: () => inner.close(),
  };
  return { driver, reads: () => reads };
}

describe('collection.query(...).subscribe', () => {
  it('delivers the current result, then after each local commit that changes it, readable from outside', async () => {
    const device = await h.device('a', { config: { schema: defaultSchema } });
    const todos = device.system.collection('todos');
    const open = watch(todos.query({ where: { completed: false }, orderBy: ['dueAt', 'title'] }));
    expect(await open.next()).toEqual([]);
    await todos.insert({ id: 't1', title: 'Milk', completed: false, dueAt: 20 });
    expect(await open.next()).toEqual([{ id: 't1', title: 'Milk', completed: false, dueAt: 20 }]);
    // Delivered after COMMIT: another connection to the file already sees the row.
    const outside = new Database(device.dbPath, { readonly: true });
    expect(outside.prepare("SELECT entity_id FROM ferry_entities WHERE entity_type = 'todos'").all()).toHaveLength(1);
    outside.close();
    await todos.update('t1', { completed: true });
    expect(await open.next()).toEqual([]);
    open.stop();
  });

  it('re-runs only for writes to the types it reads, and skips delivery when the result is unchanged', async () => {
    const { driver, reads } = countingDriver(`${h.dir}/counted.db`);
    const device = await h.device('c', { config: { driver, schema: defaultSchema } });
    const todos = device.system.collection('todos');
    await todos.insert({ id: 't1', title: 'Milk', completed: false });
    const open = watch(todos.query({ where: { completed: false } }));
    await open.next();
    const afterFirst = reads();
    await device.system.collection('notes').insert({ id: 'n1', body: 'x' });
    await settle();
    expect(reads()).toBe(afterFirst); // a note never re-runs a todo query
    await todos.insert({ id: 't2', title: 'Done already', completed: true });
    await settle();
    expect(reads()).toBe(afterFirst + 1); // a todo write re-runs it...
    expect(open.results).toHaveLength(1); // ...but the open list did not change: no delivery
    open.stop();
    await todos.insert({ id: 't3', title: 'Bread', completed: false });
    await settle();
    expect(reads()).toBe(afterFirst + 1); // unwatched: writes cost no query
  });

  it("delivers a pulled page's records after the page commits", async () => {
    const writer = await h.device('w', { config: { schema: defaultSchema } });
    const reader = await h.device('r', { config: { schema: defaultSchema } });
    const soon = watch(reader.system.collection('todos').query({ where: { dueAt: { lte: 100 } }, orderBy: 'dueAt' }));
    const count = watch(reader.system.collection('todos').countQuery({ completed: false }));
    expect(await soon.next()).toEqual([]);
    expect(await count.next()).toBe(0);
    const todos = writer.system.collection('todos');
    await todos.insert({ id: 'x1', title: 'Later', completed: false, dueAt: 500 });
    await todos.insert({ id: 'x2', title: 'Soon', completed: false, dueAt: 50 });
    await writer.system.forceSync();
    await reader.system.forceSync();
    expect(await soon.next()).toEqual([{ id: 'x2', title: 'Soon', completed: false, dueAt: 50 }]);
    expect(await count.next()).toBe(2);
    soon.stop();
    count.stop();
  });
});

describe('store.sqlQuery(...).subscribe', () => {
  it('re-runs an SQL read when a type whose view it names changes, not for other types', async () => {
    const device = await h.device('s', { config: { schema: defaultSchema } });
    const store = device.system.localStore;
    const byState = watch(
      store.sqlQuery('SELECT completed, COUNT(*) AS n FROM todos GROUP BY completed ORDER BY completed'),
    );
    expect(await byState.next()).toEqual([]);
    await device.system.collection('todos').insert({ id: 't1', title: 'Milk', completed: false });
    expect(await byState.next()).toEqual([{ completed: 0, n: 1 }]);
    await device.system.collection('notes').insert({ id: 'n1', body: 'x' });
    await settle();
    expect(byState.results).toHaveLength(2);
    expect(store.sqlQuery('SELECT COUNT(*) FROM ferry_entities').reads).toBe('*');
    expect(byState.errors).toEqual([]);
    byState.stop();
  });
});
