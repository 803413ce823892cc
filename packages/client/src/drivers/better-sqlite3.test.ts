import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runStoreContract } from '../testing/storeContract.js';
import { createBetterSqliteDriver } from './better-sqlite3.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

runStoreContract('better-sqlite3', { describe, it, expect, beforeEach, afterEach }, async (name) =>
  createBetterSqliteDriver(join(dir, `${name}.db`)),
);

describe('better-sqlite3 driver settings', () => {
  it("runs with SQLite's default page cache unless told otherwise", async () => {
    const cacheOf = async (driver: ReturnType<typeof createBetterSqliteDriver>) => {
      const { rows } = await driver.execute('PRAGMA cache_size');
      await driver.close();
      return rows[0]?.cache_size;
    };
    expect(await cacheOf(createBetterSqliteDriver(join(dir, 'cache-default.db')))).toBe(-2000);
    expect(await cacheOf(createBetterSqliteDriver(join(dir, 'cache-16m.db'), { cacheSizeKiB: 16_000 }))).toBe(-16000);
    // better-sqlite3's own build default, which the driver replaces.
    const plain = new Database(join(dir, 'cache-plain.db'));
    expect(plain.pragma('cache_size', { simple: true })).toBe(-16000);
    plain.close();
  });

  it('refuses a page cache size that is not a positive integer', () => {
    for (const cacheSizeKiB of [0, -5, 1.5, Number.NaN]) {
      expect(() => createBetterSqliteDriver(join(dir, 'cache-bad.db'), { cacheSizeKiB })).toThrow(/cacheSizeKiB/);
    }
  });
});
