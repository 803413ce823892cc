import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBetterSqliteDriver } from '../drivers/better-sqlite3.js';
import { migrateStore } from './migrateStore.js';
import type { SqlDriver } from './SqlDriver.js';
import { StoreTx } from './StoreTx.js';
import { RANGE_PROBE_LIMIT, SELECT_ENTITIES_IN } from './storeRows.js';

// Real SQLite files: a pulled page's prefetch may prove keys absent from one index range read;
// every key it calls absent must be absent, and every key held must come back as the table has it.
let dir: string;
let files = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-prefetch-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Key = [entityType: string, entityId: string];

// Ids that sort differently as UTF-16 and as UTF-8 bytes ('\uff5e' before '\u{1f600}' in bytes,
// after it in code units), ids around a held range, and many ids in one range.
const IDS = [
  'a',
  'b',
  'c',
  'k',
  'z',
  'b1',
  'b2',
  'é',
  '\uff5e',
  '\u{1f600}',
  ...Array.from({ length: 80 }, (_, i) => `m${i}`),
];
const TYPES = ['todos', 'notes', 'tags', 'lists', 'users'];
const keyArb = fc.tuple(fc.constantFrom(...TYPES.slice(0, 3)), fc.constantFrom(...IDS));

async function openDevice(): Promise<{ driver: SqlDriver; statements: string[] }> {
  const inner = createBetterSqliteDriver(join(dir, `device-${files++}.db`), { synchronous: 'OFF' });
  await migrateStore(inner, undefined);
  const statements: string[] = [];
  const driver: SqlDriver = {
    execute: inner.execute,
    close: () => inner.close(),
    transaction: (fn) =>
      inner.transaction((sql) =>
        fn({
          execute: (text, params) => {
            statements.push(text);
            return sql.execute(text, params);
          },
        }),
      ),
  };
  return { driver, statements };
}

async function hold(driver: SqlDriver, keys: readonly Key[]): Promise<void> {
  await driver.transaction(async (sql) => {
    const tx = new StoreTx(sql);
    for (const [entityType, entityId] of keys) {
      await tx.putEntity({
        entityType,
        entityId,
        data: { title: `${entityType}/${entityId}` },
        deleted: false,
        version: 1,
        vector: { a: 1 },
        hlc: '001732550000000-000000-a',
        fieldHlcs: { title: '001732550000000-000000-a' },
        serverVersion: 1,
      });
    }
  });
}

/** What `getEntity` answers for each key after a `mostlyNew` prefetch, and straight from the table. */
async function answers(driver: SqlDriver, page: readonly Key[]) {
  const keys = page.map(([entityType, entityId]) => ({ entityType, entityId }));
  const cached = await driver.transaction(async (sql) => {
    const tx = new StoreTx(sql);
    await tx.prefetch(keys, { mostlyNew: true });
    return Promise.all(keys.map((key) => tx.getEntity(key.entityType, key.entityId)));
  });
  const direct = await Promise.all(keys.map((key) => new StoreTx(driver).getEntity(key.entityType, key.entityId)));
  return { cached, direct };
}

describe('prefetch of a pulled page (mostlyNew)', () => {
  it('answers every key as the table holds it, whatever the table and the page', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(keyArb, { selector: ([type, id]) => `${type}/${id}`, maxLength: 120 }),
        fc.array(keyArb, { minLength: 1, maxLength: 40 }),
        async (held, page) => {
          const { driver } = await openDevice();
          try {
            await hold(driver, held);
            const { cached, direct } = await answers(driver, page);
            expect(cached).toEqual(direct);
          } finally {
            await driver.close();
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it('finds held ids whose order differs between UTF-16 and UTF-8', async () => {
    const { driver } = await openDevice();
    try {
      // In code units '\u{1f600}' (a surrogate pair) sorts before '\uff5e'; in UTF-8 bytes, after.
      const keys: Key[] = [
        ['todos', '\uff5e'],
        ['todos', '\u{1f600}'],
      ];
      await hold(driver, keys);
      const { cached, direct } = await answers(driver, keys);
      expect(direct.every((entity) => entity !== null)).toBe(true);
      expect(cached).toEqual(direct);
    } finally {
      await driver.close();
    }
  });

  it('looks up only the keys it found in the range when the page is new records', async () => {
    const { driver, statements } = await openDevice();
    try {
      await hold(driver, [
        ['todos', 'a'],
        ['todos', 'q'],
        ['todos', 'z'],
      ]);
      const page: Key[] = [
        ['todos', 'b'],
        ['todos', 'q'],
        ['todos', 'x'],
      ];
      const { cached } = await answers(driver, page);
      expect(cached.map((entity) => entity?.entityId ?? null)).toEqual([null, 'q', null]);
      // One look-up, for 'q' alone (the range b..x holds only it).
      expect(statements.filter((text) => text === SELECT_ENTITIES_IN)).toHaveLength(1);
      statements.length = 0;
      await answers(driver, [
        ['todos', 'c'],
        ['todos', 'd'],
      ]);
      expect(statements.filter((text) => text === SELECT_ENTITIES_IN)).toHaveLength(0);
    } finally {
      await driver.close();
    }
  });

  it('looks every key up when the range holds too many rows, ids leave ASCII or types are many', async () => {
    const { driver, statements } = await openDevice();
    try {
      const many = Array.from(
        { length: RANGE_PROBE_LIMIT + 1 },
        (_, i): Key => ['todos', `m${String(i).padStart(3, '0')}`],
      );
      await hold(driver, many);
      const pages: Key[][] = [
        [
          ['todos', 'm'],
          ['todos', 'n'],
        ],
        [
          ['todos', 'a'],
          ['todos', 'é'],
        ],
        TYPES.map((type): Key => [type, 'a']),
      ];
      for (const page of pages) {
        statements.length = 0;
        const { cached, direct } = await answers(driver, page);
        expect(cached).toEqual(direct);
        expect(statements.filter((text) => text === SELECT_ENTITIES_IN)).toHaveLength(1);
      }
    } finally {
      await driver.close();
    }
  });
});
