import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBetterSqliteDriver } from '../drivers/better-sqlite3.js';
import { LocalStore } from './LocalStore.js';
import { STORE_MIGRATIONS } from './schema.js';
import { ENTITY_COLUMNS, EVERY_FIELD_AT_RECORD_STAMP, entityFromRow, entityParams } from './storeRows.js';
import type { LocalEntity } from './types.js';

const HLC = '001732550000000-000003-device-a';
const OTHER = '001732550000000-000004-device-b';

/** The row SQLite would hand back for an entity written with entityParams. */
function roundTrip(entity: LocalEntity): { column: unknown; back: LocalEntity } {
  const params = entityParams(entity);
  const row = Object.fromEntries(ENTITY_COLUMNS.split(', ').map((column, index) => [column, params[index] ?? null]));
  return { column: row.field_hlcs, back: entityFromRow(row) };
}

function entity(data: LocalEntity['data'], fieldHlcs: Record<string, string>): LocalEntity {
  return {
    entityType: 'todos',
    entityId: 't1',
    data,
    deleted: data === null,
    version: 2,
    vector: { 'device-a': 2 },
    hlc: HLC,
    fieldHlcs,
    serverVersion: 1,
  };
}

describe('entity rows', () => {
  it('read back every entity exactly as written, field stamps in their order', () => {
    const fields = fc.uniqueArray(fc.constantFrom('title', 'done', 'order', '$x', '__proto__', 'constructor'), {
      maxLength: 5,
    });
    fc.assert(
      fc.property(
        fields,
        fields,
        fc.array(fc.constantFrom(HLC, OTHER), { minLength: 5, maxLength: 5 }),
        fc.boolean(),
        (dataFields, stampedFields, stamps, tombstone) => {
          // Built like JSON.parse builds objects, so '__proto__' is an own key.
          const data = JSON.parse(JSON.stringify(Object.fromEntries(dataFields.map((field, i) => [field, i]))));
          const fieldHlcs = JSON.parse(
            JSON.stringify(Object.fromEntries(stampedFields.map((field, i) => [field, stamps[i]]))),
          );
          const written = entity(tombstone ? null : data, fieldHlcs);
          const { back } = roundTrip(written);
          expect(back).toEqual(written);
          expect(JSON.stringify(back)).toBe(JSON.stringify(written));
          expect(Object.getPrototypeOf(back.fieldHlcs)).toBe(Object.prototype);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('store the field stamps of a record stamped whole as one mark, anything else as JSON', () => {
    const whole = entity({ title: 'a', done: false }, { title: HLC, done: HLC });
    expect(roundTrip(whole).column).toBe(EVERY_FIELD_AT_RECORD_STAMP);
    const cases: Array<[LocalEntity['data'], Record<string, string>]> = [
      [
        { title: 'a', done: false },
        { title: HLC, done: OTHER },
      ],
      [
        { title: 'a', done: false },
        { done: HLC, title: HLC },
      ],
      [{ title: 'a', done: false }, { title: HLC }],
      [{ title: 'a' }, { title: HLC, gone: HLC }],
      [null, { title: HLC }],
    ];
    for (const [data, fieldHlcs] of cases) {
      expect(roundTrip(entity(data, fieldHlcs)).column).toBe(JSON.stringify(fieldHlcs));
    }
  });
});

describe('a store of schema version 2', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-rows-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('opens with its rows read as they were written, and new writes use the mark', async () => {
    const path = join(dir, 'app.db');
    const old = new Database(path);
    for (const statement of [...(STORE_MIGRATIONS[0] ?? []), ...(STORE_MIGRATIONS[1] ?? [])]) old.exec(statement);
    old.prepare("INSERT INTO ferry_kv (key, value) VALUES ('schemaVersion', '2')").run();
    old
      .prepare(
        `INSERT INTO ferry_entities (entity_type, entity_id, data, deleted, version, vector, hlc, field_hlcs, server_version)
         VALUES ('todos', 't1', '{"title":"Old"}', 0, 1, '{"device-a":1}', ?, ?, 1)`,
      )
      .run(HLC, JSON.stringify({ title: HLC }));
    old.close();

    const store = await LocalStore.open(createBetterSqliteDriver(path));
    try {
      expect((await store.getEntity('todos', 't1'))?.fieldHlcs).toEqual({ title: HLC });
      await store.write((tx) => tx.putEntity({ ...entity({ title: 'New' }, { title: HLC }), entityId: 't2' }));
      const { rows } = await store.read((tx) =>
        tx.execute('SELECT entity_id, field_hlcs FROM ferry_entities ORDER BY 1'),
      );
      expect(rows).toEqual([
        { entity_id: 't1', field_hlcs: JSON.stringify({ title: HLC }) },
        { entity_id: 't2', field_hlcs: EVERY_FIELD_AT_RECORD_STAMP },
      ]);
      expect((await store.getEntity('todos', 't2'))?.fieldHlcs).toEqual({ title: HLC });
    } finally {
      await store.close();
    }
  });
});
