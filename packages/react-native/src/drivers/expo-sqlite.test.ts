import { runStoreContract, type TestRunner } from '@ferry/client/testing';
import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { openDatabaseAsync } from '../../test/native/expoSqlite';
import { tempDir } from '../../test/support/tempDir';
import { createExpoSqliteDriver } from './expo-sqlite';

// expo-sqlite's API shape over better-sqlite3 (see test/native/expoSqlite.ts): the driver's
// SQL runs in real SQLite.
const temp = tempDir('expo-sqlite');
afterAll(() => temp.remove());

runStoreContract(
  'expo-sqlite',
  { describe, it, expect, beforeEach, afterEach } as unknown as TestRunner,
  async (name) => createExpoSqliteDriver(await openDatabaseAsync(`${name}.db`, {}, temp.dir)),
);

describe('expo-sqlite driver', () => {
  it('returns rows for queries and change counts for writes', async () => {
    const driver = createExpoSqliteDriver(await openDatabaseAsync('shape.db', {}, temp.dir));
    await driver.execute('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)');
    expect(await driver.execute('INSERT INTO t (k, v) VALUES (?, ?), (?, ?)', ['a', 1, 'b', 2])).toEqual({
      rows: [],
      rowsAffected: 2,
    });
    expect((await driver.execute('UPDATE t SET v = v + 1')).rowsAffected).toBe(2);
    expect((await driver.execute('SELECT k, v FROM t ORDER BY k')).rows).toEqual([
      { k: 'a', v: 2 },
      { k: 'b', v: 3 },
    ]);
    await driver.close();
  });

  it('commits nothing from a failed transaction, even on another connection', async () => {
    const driver = createExpoSqliteDriver(await openDatabaseAsync('tx.db', {}, temp.dir));
    await driver.execute('CREATE TABLE t (v TEXT)');
    await expect(
      driver.transaction(async (tx) => {
        await tx.execute('INSERT INTO t (v) VALUES (?)', ['x']);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await driver.execute('SELECT COUNT(*) AS n FROM t')).rows).toEqual([{ n: 0 }]);
    await driver.close();
  });
});
