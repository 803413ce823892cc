/**
 * Store migration 2 (shared spaces) from a store file an older build wrote: every record and
 * queued change it held is in the private space afterwards, and reads say so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineSchema } from '@ferry/protocol';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBetterSqliteDriver } from '../drivers/better-sqlite3.js';
import { LocalStore } from './LocalStore.js';
import { STORE_MIGRATIONS, STORE_SCHEMA_VERSION } from './schema.js';

const schema = defineSchema({ entities: { todos: { fields: { title: 'string' } } } });
let dir: string;
let dbPath: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-space-migrate-'));
  dbPath = join(dir, 'app.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('store migration to spaces', () => {
  it('opens a store of schema version 1: its records and queued changes are private, and space reads work', async () => {
    const old = new Database(dbPath);
    for (const statement of STORE_MIGRATIONS[0] ?? []) old.exec(statement);
    old.prepare("INSERT INTO ferry_kv (key, value) VALUES ('schemaVersion', '1')").run();
    old
      .prepare(
        `INSERT INTO ferry_entities (entity_type, entity_id, data, deleted, version, vector, hlc, field_hlcs, server_version)
         VALUES ('todos', 't1', '{"title":"Old"}', 0, 1, '{}', '000000000000000-000000-local', '{}', 0)`,
      )
      .run();
    old
      .prepare(
        `INSERT INTO ferry_outbox (change_id, entity_type, entity_id, operation, data, timestamp, hlc, version, vector, client_id)
         VALUES ('c1', 'todos', 't1', 'CREATE', '{"title":"Old"}', 1, '000000000000000-000000-local', 1, '{"local":1}', 'local')`,
      )
      .run();
    old.close();

    const store = await LocalStore.open(createBetterSqliteDriver(dbPath), { schema });
    try {
      expect(await store.kv.getItem('schemaVersion')).toBe(String(STORE_SCHEMA_VERSION));
      const [doc] = await store.find('todos', { space: null });
      expect(doc).toEqual({ title: 'Old', id: 't1' });
      expect(doc?.space).toBeNull();
      expect(await store.find('todos', { space: 'sp_elsewhere1' })).toEqual([]);
      const [queued] = await store.read((tx) => tx.pendingChanges(-1));
      expect(queued?.space).toBeUndefined();
      // The per-type view carries the space column for SQL reads.
      expect(await store.sql('SELECT id, space FROM todos')).toEqual([{ id: 't1', space: null }]);
    } finally {
      await store.close();
    }
  });

  it('refuses a space filter that is not a space id', async () => {
    const store = await LocalStore.open(createBetterSqliteDriver(dbPath), { schema });
    try {
      await expect(store.find('todos', { space: 'alice' })).rejects.toThrow(/space must be a shared space id/);
    } finally {
      await store.close();
    }
  });
});
