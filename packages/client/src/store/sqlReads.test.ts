/**
 * SQL reads: one read-only statement over the per-type views, bound parameters, and a clear
 * refusal (with nothing changed) for anything that is not a single read.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineSchema } from '@ferry/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Collection } from '../data/Collection.js';
import { createBetterSqliteDriver } from '../drivers/better-sqlite3.js';
import { SyncError } from '../errors.js';
import { ChangeTracker } from '../tracking/ChangeTracker.js';
import { LocalStore } from './LocalStore.js';
import { checkReadOnlySql } from './readOnlySql.js';

const schema = defineSchema({
  entities: {
    lists: { fields: { name: 'string' } },
    todos: { fields: { title: 'string', listId: { type: 'string', indexed: true }, completed: 'boolean' } },
  },
});

let dir: string;
let store: LocalStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-sql-'));
  store = await LocalStore.open(createBetterSqliteDriver(join(dir, 'app.db')), { schema });
  const tracker = new ChangeTracker(store, 'device-a');
  const lists = new Collection('lists', tracker);
  const todos = new Collection('todos', tracker);
  await lists.insert({ id: 'home', name: 'Home' });
  await lists.insert({ id: 'work', name: 'Work' });
  await todos.insert({ id: 't1', title: 'Milk', listId: 'home', completed: false });
  await todos.insert({ id: 't2', title: 'Report', listId: 'work', completed: true });
  await todos.insert({ id: 't3', title: 'Eggs', listId: 'home', completed: true });
  await todos.delete('t3');
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('store.sql', () => {
  it('joins and aggregates over the views, with bound parameters; tombstones are not in the views', async () => {
    expect(
      await store.sql(
        `SELECT l.name, COUNT(t.id) AS n, SUM(t.completed) AS done
           FROM lists l LEFT JOIN todos t ON t.listId = l.id
          WHERE l.name <> ? GROUP BY l.id ORDER BY l.name`,
        ['Nowhere'],
      ),
    ).toEqual([
      { name: 'Home', n: 1, done: 0 },
      { name: 'Work', n: 1, done: 1 },
    ]);
  });

  it.each([
    ['DELETE FROM ferry_outbox', /starts with DELETE/],
    ['SELECT 1; DELETE FROM ferry_outbox', /only one statement/],
    ['WITH x AS (SELECT 1) DELETE FROM ferry_outbox', /DELETE is not allowed/],
    ["WITH x AS (SELECT 1) REPLACE INTO ferry_kv VALUES ('a', 'b')", /REPLACE INTO is not allowed/],
    ['PRAGMA query_only = 0', /starts with PRAGMA/],
    ["ATTACH DATABASE 'x.db' AS x", /starts with ATTACH/],
    ['', /non-empty string/],
    ['-- nothing', /the statement is empty/],
    ["SELECT 'unterminated", /string literal is not closed/],
  ])('refuses %j and changes nothing', async (sql, message) => {
    const before = await store.sql('SELECT COUNT(*) AS n FROM ferry_outbox');
    const error = await store.sql(sql).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SyncError);
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringMatching(message) });
    expect(await store.sql('SELECT COUNT(*) AS n FROM ferry_outbox')).toEqual(before);
  });

  it("runs each read with SQLite's own query_only guard on, and off again for the engine's writes", async () => {
    // The scan is the first line; query_only makes SQLite refuse any write that got past it.
    expect(await store.sql('SELECT * FROM pragma_query_only')).toEqual([{ query_only: 1 }]);
    // ...and it is off again for the engine's own writes afterwards.
    const todos = new Collection('todos', new ChangeTracker(store, 'device-a'));
    await todos.insert({ id: 't4', title: 'Bread', listId: 'home' });
    expect(await store.count('todos')).toBe(3);
  });

  it('allows words inside strings, quoted names and comments, and replace() as a function', () => {
    expect(() =>
      checkReadOnlySql(`SELECT replace(title, 'DELETE', "update") /* DROP */ FROM todos -- INSERT\n;`),
    ).not.toThrow();
    expect([...checkReadOnlySql('SELECT * FROM "todos" JOIN [lists] ON 1').identifiers]).toEqual(
      expect.arrayContaining(['todos', 'lists']),
    );
  });

  it("shows the plan of a read with EXPLAIN QUERY PLAN: the view uses its type's index", async () => {
    const plan = await store.sql('EXPLAIN QUERY PLAN SELECT id FROM todos WHERE listId = ?', ['home']);
    expect(plan.map((row) => row.detail).join('\n')).toMatch(/USING (COVERING )?INDEX ferry_ix_todos__listId/);
    await expect(store.sql('EXPLAIN DELETE FROM ferry_outbox')).rejects.toThrow(/starts with DELETE/);
    await expect(store.sql('EXPLAIN QUERY PLAN PRAGMA query_only = 0')).rejects.toThrow(/starts with PRAGMA/);
    await expect(store.sql('EXPLAIN QUERY PLAN')).rejects.toThrow(/EXPLAIN needs the read it explains/);
  });

  it('reports SQLite errors as VALIDATION_ERROR and rejects non-SQL parameters', async () => {
    await expect(store.sql('SELECT nope FROM todos')).rejects.toThrow(/SQL read failed: no such column: nope/);
    await expect(store.sql('SELECT ?', [true as never])).rejects.toThrow(/bind booleans as 1 or 0/);
  });
});
