/**
 * Queries on a real SQLite file: operators, and/or, null checks, several sort keys, paging,
 * count, the declared indexes (proved with EXPLAIN QUERY PLAN) and clear errors for bad input.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineSchema, type InferRecord, type RecordData } from '@ferry/protocol';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import type { SyncSystem } from '../createSyncSystem.js';
import { Collection } from '../data/Collection.js';
import { createBetterSqliteDriver } from '../drivers/better-sqlite3.js';
import { SyncError } from '../errors.js';
import { ChangeTracker } from '../tracking/ChangeTracker.js';
import { compileQuery } from './compileQuery.js';
import { LocalStore } from './LocalStore.js';

const schema = defineSchema({
  entities: {
    todos: {
      fields: {
        title: { type: 'string', nullable: false },
        completed: { type: 'boolean', indexed: true },
        dueAt: { type: 'number', indexed: true },
        priority: 'number',
        tags: 'array',
      },
      indexes: [['completed', 'dueAt']],
    },
    notes: {},
  },
});

let dir: string;
let dbPath: string;
let store: LocalStore;
let todos: Collection<{
  title: string;
  completed?: boolean | null;
  dueAt?: number | null;
  priority?: number | null;
  tags?: string[];
}>;

const rows = [
  { id: 'a', title: 'Apples', completed: false, dueAt: 30, priority: 2 },
  { id: 'b', title: 'bread', completed: true, dueAt: 10, priority: 1 },
  { id: 'c', title: 'Cheese 50%', completed: false, dueAt: 10, priority: 3 },
  { id: 'd', title: 'Dates', completed: false, priority: 1 },
  { id: 'e', title: 'eggs', completed: null, dueAt: 20, priority: 2 },
];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-query-'));
  dbPath = join(dir, 'app.db');
  store = await LocalStore.open(createBetterSqliteDriver(dbPath), { schema });
  todos = new Collection('todos', new ChangeTracker(store, 'device-a'));
  for (const row of rows) await todos.insert(row);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const ids = async (options: Parameters<typeof todos.find>[0]) => (await todos.find(options)).map((todo) => todo.id);

describe('operators', () => {
  it.each([
    [{ completed: false }, ['a', 'c', 'd']],
    [{ completed: { eq: true } }, ['b']],
    [{ completed: { ne: true } }, ['a', 'c', 'd', 'e']], // ne also matches null
    [{ dueAt: { gt: 10 } }, ['a', 'e']],
    [{ dueAt: { gte: 20 } }, ['a', 'e']],
    [{ dueAt: { lt: 20 } }, ['b', 'c']],
    [{ dueAt: { lte: 20, gt: 10 } }, ['e']],
    [{ dueAt: { in: [10, 30] } }, ['a', 'b', 'c']],
    [{ dueAt: { notIn: [10, 30] } }, ['d', 'e']], // notIn also matches null
    [{ dueAt: { in: [] } }, []],
    [{ title: { like: 'b%' } }, ['b']],
    [{ title: { like: '%50\\%' } }, ['c']],
    [{ title: { startsWith: 'B' } }, []], // case-sensitive
    [{ title: { startsWith: 'Ch' } }, ['c']],
    [{ title: { contains: 'gg' } }, ['e']],
    [{ dueAt: null }, ['d']],
    [{ dueAt: { isNull: true } }, ['d']],
    [{ completed: { isNull: false }, dueAt: { isNull: false } }, ['a', 'b', 'c']],
    [{ or: [{ completed: true }, { dueAt: { gte: 30 } }] }, ['a', 'b']],
    [{ and: [{ completed: false }, { or: [{ dueAt: null }, { priority: 3 }] }] }, ['c', 'd']],
    [{ id: { in: ['a', 'e'] } }, ['a', 'e']],
  ])('%j', async (where, expected) => {
    expect(await ids({ where: where as never })).toEqual(expected);
  });

  it('sorts by several keys, ties broken by id, and pages', async () => {
    expect(await ids({ orderBy: ['priority', { field: 'dueAt', direction: 'desc' }] })).toEqual([
      'b',
      'd',
      'a',
      'e',
      'c',
    ]);
    expect(await ids({ orderBy: 'dueAt', order: 'desc' })).toEqual(['a', 'e', 'c', 'b', 'd']);
    expect(await ids({ orderBy: ['priority', 'id'], limit: 2, offset: 1 })).toEqual(['d', 'a']);
    expect(await ids({ where: { completed: false }, orderBy: ['dueAt', 'title'], limit: 2 })).toEqual(['d', 'c']);
    expect(await ids({ orderBy: [{ field: 'dueAt', nulls: 'last' }, 'title'] })).toEqual(['c', 'b', 'e', 'a', 'd']);
    expect(await ids({ orderBy: { field: 'dueAt', direction: 'desc', nulls: 'first' } })).toEqual([
      'd',
      'a',
      'e',
      'c',
      'b',
    ]);
  });

  it('counts matches in SQLite', async () => {
    expect(await todos.count()).toBe(5);
    expect(await todos.count({ completed: false })).toBe(3);
    expect(await todos.count({ dueAt: { lte: 20 } })).toBe(3);
    await todos.delete('a');
    expect(await todos.count({ completed: false })).toBe(2); // tombstones never count
  });

  it('keeps find({ where, orderBy, order, limit, offset }) as it was', async () => {
    expect(await ids({ where: { completed: false }, orderBy: 'title', order: 'desc', limit: 2, offset: 1 })).toEqual([
      'c',
      'a',
    ]);
    expect((await store.find('todos', { where: { title: 'eggs' } }))[0]).toEqual({
      id: 'e',
      title: 'eggs',
      completed: null,
      dueAt: 20,
      priority: 2,
    });
  });
});

describe('types', () => {
  it('a sync system with a defineSchema schema types its collections from it; without one they stay untyped', () => {
    const typed = (sync: SyncSystem<typeof schema>) => sync.collection('todos');
    expectTypeOf<ReturnType<typeof typed>>().toEqualTypeOf<Collection<InferRecord<typeof schema, 'todos'>>>();
    expectTypeOf<InferRecord<typeof schema, 'todos'>['title']>().toEqualTypeOf<string>();
    const untyped = (sync: SyncSystem) => sync.collection('todos');
    expectTypeOf<ReturnType<typeof untyped>>().toEqualTypeOf<Collection<RecordData>>();
  });
});

describe('bad input is a clear VALIDATION_ERROR naming the field', () => {
  it.each([
    [{ where: { colour: 'red' } }, /todos\.colour is not a declared field/],
    [{ where: { dueAt: 'soon' } }, /todos\.dueAt \(eq\) compares a number field with "soon"/],
    [{ where: { completed: { gt: true } } }, /todos\.completed \(gt\) does not apply to a boolean field/],
    [{ where: { dueAt: { like: '1%' } } }, /todos\.dueAt \(like\) compares a number field/],
    [{ where: { title: { in: 'a' } } }, /todos\.title \(in\) needs an array/],
    [{ where: { title: { matches: 'a' } } }, /Unknown operator "matches" on todos\.title/],
    [{ where: { tags: { eq: 'x' } } }, /todos\.tags \(eq\): the field is not comparable/],
    [{ where: { dueAt: { gt: Number.NaN } } }, /todos\.dueAt \(gt\) needs a finite number/],
    [{ orderBy: 'colour' }, /todos\.colour is not a declared field, so it cannot be sorted on/],
    [{ orderBy: 'tags' }, /todos\.tags is a array field; sort on a string/],
    [{ orderBy: { field: 'title', direction: 'up' } }, /direction of title must be "asc" or "desc"/],
    [{ limit: -1 }, /limit must be a non-negative integer/],
    [{ orderBy: { field: 'dueAt', nulls: 'end' } }, /nulls of dueAt must be "first" or "last"/],
    [{ where: { 'a-b': 1 } }, /Invalid field name "a-b"/],
  ])('%j', async (options, message) => {
    const error = await todos.find(options as never).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SyncError);
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringMatching(message) });
    expect(() => todos.query(options as never)).toThrow(message);
  });

  it('refuses an undeclared entity type', async () => {
    await expect(store.find('tasks')).rejects.toThrow(
      /Entity type "tasks" is not declared in the schema; declared: todos, notes/,
    );
  });

  it('refuses writes the schema does not allow, and writes nothing', async () => {
    await expect(todos.insert({ completed: false } as never)).rejects.toThrow(/todos\.title is missing/);
    await expect(todos.update('a', { dueAt: 'soon' as never })).rejects.toThrow(
      /todos\.dueAt must be a number, got string/,
    );
    expect(await todos.count()).toBe(5);
    expect(await todos.get('a')).toMatchObject({ dueAt: 30 });
  });

  it('takes any field of a type that declares none (free-form), typed by the value', async () => {
    const notes = new Collection('notes', new ChangeTracker(store, 'device-a'));
    await notes.insert({ id: 'n1', body: 'hi', pinned: true });
    expect((await notes.find({ where: { pinned: true }, orderBy: 'body' })).map((note) => note.id)).toEqual(['n1']);
    await expect(notes.find({ where: { body: { gt: true } } })).rejects.toThrow(
      /notes\.body \(gt\) does not apply to a boolean/,
    );
  });
});

describe('indexes', () => {
  /** SQLite's plan for a compiled query, one detail line per step. */
  const plan = (options: object) => {
    const { select } = compileQuery({ entityType: 'todos', entity: schema.entities.get('todos') }, options as never);
    const db = new Database(dbPath, { readonly: true });
    try {
      return (db.prepare(`EXPLAIN QUERY PLAN ${select.sql}`).all(...select.params) as Array<{ detail: string }>)
        .map((step) => step.detail)
        .join('\n');
    } finally {
      db.close();
    }
  };

  it('an indexed filter searches an index instead of scanning the table', () => {
    const detail = plan({ where: { dueAt: { lt: 20 } } });
    expect(detail).toContain(
      'SEARCH ferry_entities USING INDEX ferry_ix_todos__dueAt (entity_type=? AND deleted=? AND <expr><?)',
    );
    expect(detail).not.toMatch(/SCAN ferry_entities/);
  });

  it('filter + sort on a compound index needs neither a scan nor a sort step', () => {
    const detail = plan({ where: { completed: false }, orderBy: 'dueAt', limit: 50 });
    expect(detail).toMatch(/SEARCH ferry_entities USING INDEX ferry_ix_todos__completed__dueAt/);
    expect(detail).not.toMatch(/SCAN ferry_entities|TEMP B-TREE/);
  });

  it('SQL reads over the views use the same indexes', () => {
    const db = new Database(dbPath, { readonly: true });
    try {
      const detail = (
        db.prepare('EXPLAIN QUERY PLAN SELECT id FROM todos WHERE dueAt < ?').all(20) as Array<{
          detail: string;
        }>
      )
        .map((step) => step.detail)
        .join('\n');
      expect(detail).toMatch(/USING (COVERING )?INDEX ferry_ix_todos__dueAt/);
    } finally {
      db.close();
    }
  });

  it('an unindexed filter is still correct (it scans)', async () => {
    expect(plan({ where: { priority: 1 } })).toMatch(/SCAN|USING INDEX/);
    expect(await ids({ where: { priority: 1 } })).toEqual(['b', 'd']);
  });
});
