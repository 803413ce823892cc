/**
 * A schema change migrates the device's store when it opens, in one transaction: from a store
 * written before schemas existed (main's layout: entities as JSON, no indexes, no views), and
 * from one schema to the next.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineSchema } from '@ferry/protocol';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBetterSqliteDriver } from '../drivers/better-sqlite3.js';
import { LocalStore } from './LocalStore.js';
import { STORE_MIGRATIONS } from './schema.js';

const v1 = defineSchema({
  entities: { todos: { fields: { title: 'string', completed: { type: 'boolean', indexed: true } } } },
});
const v2 = defineSchema({
  entities: {
    todos: {
      fields: { title: 'string', completed: 'boolean', dueAt: { type: 'number', indexed: true } },
      indexes: [['completed', 'dueAt']],
    },
    notes: { fields: { body: 'string' } },
  },
});

let dir: string;
let dbPath: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-migrate-'));
  dbPath = join(dir, 'app.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a store file the way a build without schemas did: its tables, its rows, raw. */
function writeOldStore(): void {
  const db = new Database(dbPath);
  for (const statement of STORE_MIGRATIONS[0] ?? []) db.exec(statement);
  db.prepare("INSERT INTO ferry_kv (key, value) VALUES ('schemaVersion', '1')").run();
  const insert = db.prepare(
    `INSERT INTO ferry_entities (entity_type, entity_id, data, deleted, version, vector, hlc, field_hlcs, server_version)
     VALUES ('todos', ?, ?, ?, 1, '{}', '000000000000000-000000-local', '{}', 0)`,
  );
  insert.run('t1', JSON.stringify({ title: 'Old', completed: false, dueAt: 5 }), 0);
  insert.run('t2', JSON.stringify({ title: 'Done', completed: true }), 0);
  insert.run('t3', null, 1);
  db.close();
}

/** Ferry's objects in the file: indexes and views, by name. */
function catalogue(): { indexes: string[]; views: string[] } {
  const db = new Database(dbPath, { readonly: true });
  try {
    const names = (type: string) =>
      (
        db
          .prepare("SELECT name FROM sqlite_master WHERE type = ? AND name NOT LIKE 'sqlite_%' ORDER BY name")
          .all(type) as Array<{
          name: string;
        }>
      ).map((row) => row.name);
    return { indexes: names('index').filter((name) => name.startsWith('ferry_ix_')), views: names('view') };
  } finally {
    db.close();
  }
}

describe('opening a store with a schema', () => {
  it('upgrades a store file written before schemas: indexes and views appear, rows are untouched', async () => {
    writeOldStore();
    const store = await LocalStore.open(createBetterSqliteDriver(dbPath), { schema: v1 });
    expect(catalogue()).toEqual({ indexes: ['ferry_ix_todos__completed'], views: ['todos'] });
    expect(await store.find('todos', { where: { completed: false } })).toEqual([
      { id: 't1', title: 'Old', completed: false, dueAt: 5 },
    ]);
    expect(await store.sql('SELECT id, title, completed FROM todos ORDER BY id')).toEqual([
      { id: 't1', title: 'Old', completed: 0 },
      { id: 't2', title: 'Done', completed: 1 },
    ]);
    await store.close();
  });

  it('applies a new field, a new index and a dropped index on the next open', async () => {
    writeOldStore();
    await (await LocalStore.open(createBetterSqliteDriver(dbPath), { schema: v1 })).close();
    const store = await LocalStore.open(createBetterSqliteDriver(dbPath), { schema: v2 });
    expect(catalogue()).toEqual({
      indexes: ['ferry_ix_todos__completed__dueAt', 'ferry_ix_todos__dueAt'],
      views: ['notes', 'todos'],
    });
    expect(await store.sql('SELECT id, dueAt FROM todos WHERE dueAt IS NOT NULL')).toEqual([{ id: 't1', dueAt: 5 }]);
    expect(await store.count('todos', { dueAt: { lt: 10 } })).toBe(1);
    await store.close();
    // Opening again with the same schema changes nothing.
    const before = catalogue();
    await (await LocalStore.open(createBetterSqliteDriver(dbPath), { schema: v2 })).close();
    expect(catalogue()).toEqual(before);
  });

  it('opening without a schema leaves the schema objects alone', async () => {
    writeOldStore();
    await (await LocalStore.open(createBetterSqliteDriver(dbPath), { schema: v2 })).close();
    const store = await LocalStore.open(createBetterSqliteDriver(dbPath));
    expect(catalogue().views).toEqual(['notes', 'todos']);
    expect((await store.find('todos', { where: { completed: true } })).map((todo) => todo.id)).toEqual(['t2']);
    await store.close();
  });

  it('a migration that fails rolls back whole: no index, no view, no recorded schema', async () => {
    writeOldStore();
    const db = new Database(dbPath);
    // The app's own table holds the name the notes view needs, so CREATE VIEW notes fails.
    db.exec('CREATE TABLE notes (x)');
    db.close();
    await expect(LocalStore.open(createBetterSqliteDriver(dbPath), { schema: v2 })).rejects.toThrow(/notes/);
    expect(catalogue()).toEqual({ indexes: [], views: [] });
    const check = new Database(dbPath, { readonly: true });
    expect(check.prepare("SELECT value FROM ferry_kv WHERE key = 'entitySchema'").get()).toBeUndefined();
    check.close();
  });
});
