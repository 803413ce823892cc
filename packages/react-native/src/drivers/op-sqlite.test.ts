import { LocalStore } from '@ferry/client';
import { runStoreContract, type TestRunner } from '@ferry/client/testing';
import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { open } from '@op-engineering/op-sqlite';
import { tempDir } from '../../test/support/tempDir.ts';
import { createOpSqliteDriver, openOpSqliteDriver } from './op-sqlite.ts';

// `@op-engineering/op-sqlite` resolves to the package's own Node build (its exact API over
// better-sqlite3; see jest.config.cjs), so every statement below runs in real SQLite.
const temp = tempDir('op-sqlite');
afterAll(() => temp.remove());

runStoreContract('op-sqlite', { describe, it, expect, beforeEach, afterEach } as unknown as TestRunner, async (name) =>
  openOpSqliteDriver({ name: `${name}.db`, location: temp.dir }),
);

describe('op-sqlite driver', () => {
  it('rolls the whole transaction back when the callback throws', async () => {
    const db = open({ name: 'rollback.db', location: temp.dir });
    const driver = createOpSqliteDriver(db);
    await driver.execute('CREATE TABLE t (v TEXT)');
    await expect(
      driver.transaction(async (tx) => {
        await tx.execute('INSERT INTO t (v) VALUES (?)', ['kept?']);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await driver.execute('SELECT COUNT(*) AS n FROM t')).rows).toEqual([{ n: 0 }]);
    const value = await driver.transaction(async (tx) => {
      await tx.execute('INSERT INTO t (v) VALUES (?)', ['a']);
      return (await tx.execute('UPDATE t SET v = ?', ['b'])).rowsAffected;
    });
    expect(value).toBe(1);
    await driver.close();
  });

  it('opens a LocalStore that keeps its data across a reopen', async () => {
    const first = await LocalStore.open(openOpSqliteDriver({ name: 'reopen.db', location: temp.dir }));
    await first.kv.setItem('k', 'v');
    await first.close();
    const second = await LocalStore.open(openOpSqliteDriver({ name: 'reopen.db', location: temp.dir }));
    expect(await second.kv.getItem('k')).toBe('v');
    await second.close();
  });
});
