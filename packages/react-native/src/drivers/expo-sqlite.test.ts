import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalStore } from '@ferry/client';
import { runStoreContract, type TestRunner } from '@ferry/client/testing';
import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { openDatabaseAsync, useStandInSQLCipher } from '../../test/native/expoSqlite.ts';
import { startServer } from '../../test/support/server.ts';
import { tempDir } from '../../test/support/tempDir.ts';
import { createExpoSqliteDriver } from './expo-sqlite.ts';

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

  it('commits nothing from a failed transaction', async () => {
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

describe('expo-sqlite driver: one connection', () => {
  it('runs transactions on the connection it was given, so a :memory: database works', async () => {
    const driver = createExpoSqliteDriver(await openDatabaseAsync(':memory:'));
    await driver.execute('CREATE TABLE t (v TEXT)');
    // A second connection would see an empty :memory: database: "no such table: t".
    await driver.transaction(async (tx) => {
      await tx.execute('INSERT INTO t (v) VALUES (?)', ['in memory']);
    });
    expect((await driver.execute('SELECT v FROM t')).rows).toEqual([{ v: 'in memory' }]);
    // A whole LocalStore (migrations, outbox, KV) on :memory: too.
    const store = await LocalStore.open(createExpoSqliteDriver(await openDatabaseAsync(':memory:')));
    await store.kv.setItem('k', 'v');
    expect(await store.kv.getItem('k')).toBe('v');
    await store.close();
    await driver.close();
  });

  it('keeps the pragmas set on the connection inside transactions', async () => {
    const driver = createExpoSqliteDriver(await openDatabaseAsync('pragmas.db', {}, temp.dir));
    await driver.execute('PRAGMA busy_timeout = 4321');
    const inside = await driver.transaction(async (tx) => (await tx.execute('PRAGMA busy_timeout')).rows);
    expect(inside).toEqual([{ timeout: 4321 }]);
    await driver.close();
  });

  it('holds statements issued during a transaction until it ends, so a rollback never takes them along', async () => {
    const driver = createExpoSqliteDriver(await openDatabaseAsync('queue.db', {}, temp.dir));
    await driver.execute('CREATE TABLE t (v TEXT)');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const failing = driver.transaction(async (tx) => {
      await tx.execute('INSERT INTO t (v) VALUES (?)', ['rolled back']);
      await gate;
      throw new Error('boom');
    });
    const outside = driver.execute('INSERT INTO t (v) VALUES (?)', ['kept']);
    release();
    await expect(failing).rejects.toThrow('boom');
    await outside;
    expect((await driver.execute('SELECT v FROM t')).rows).toEqual([{ v: 'kept' }]);
    await driver.close();
  });
});

describe('expo-sqlite driver: encryption at rest (SQLCipher)', () => {
  const KEY = "correct horse 'battery' staple";
  beforeEach(() => useStandInSQLCipher(true));
  afterEach(() => useStandInSQLCipher(false));

  it('writes a file that cannot be read without the key, and reads it back with the key', async () => {
    const writer = createExpoSqliteDriver(await openDatabaseAsync('secret.db', {}, temp.dir), { encryptionKey: KEY });
    const store = await LocalStore.open(writer);
    await store.kv.setItem('note', 'the plaintext secret');
    // The transaction ran on the keyed connection: a fresh one without the key would have failed.
    await store.close();

    const bytes = readFileSync(join(temp.dir, 'secret.db'));
    expect(bytes.subarray(0, 16).toString('latin1')).not.toBe('SQLite format 3\0');
    expect(bytes.includes(Buffer.from('the plaintext secret'))).toBe(false);

    const withoutKey = createExpoSqliteDriver(await openDatabaseAsync('secret.db', {}, temp.dir));
    await expect(withoutKey.execute('SELECT count(*) AS n FROM sqlite_master')).rejects.toThrow(/not a database/);
    await withoutKey.close();

    const wrongKey = createExpoSqliteDriver(await openDatabaseAsync('secret.db', {}, temp.dir), {
      encryptionKey: 'wrong',
    });
    await expect(wrongKey.execute('SELECT 1')).rejects.toThrow('could not read the database with this encryptionKey');
    await wrongKey.close();

    const reader = await LocalStore.open(
      createExpoSqliteDriver(await openDatabaseAsync('secret.db', {}, temp.dir), { encryptionKey: KEY }),
    );
    expect(await reader.kv.getItem('note')).toBe('the plaintext secret');
    await reader.close();
  });

  it('refuses a key when expo-sqlite was built without SQLCipher, instead of writing plain text', async () => {
    useStandInSQLCipher(false);
    const driver = createExpoSqliteDriver(await openDatabaseAsync('plain.db', {}, temp.dir), { encryptionKey: KEY });
    await expect(driver.execute('CREATE TABLE t (v TEXT)')).rejects.toThrow('useSQLCipher');
    await driver.close();
    expect(readFileSync(join(temp.dir, 'plain.db')).length).toBe(0);
  });

  it('syncs over an encrypted database with a real server', async () => {
    const server = await startServer();
    try {
      const open = async (name: string) =>
        server.device(name, {
          driver: createExpoSqliteDriver(await openDatabaseAsync(`${name}.db`, {}, temp.dir), { encryptionKey: KEY }),
        });
      const phone = await open('enc-phone');
      const tablet = await open('enc-tablet');
      await phone.collection('todos').insert({ id: 'e1', title: 'encrypted both ends' });
      await phone.forceSync();
      await tablet.forceSync();
      expect(await tablet.collection('todos').get('e1')).toMatchObject({ title: 'encrypted both ends' });
      expect(readFileSync(join(temp.dir, 'enc-tablet.db')).includes(Buffer.from('encrypted both ends'))).toBe(false);
    } finally {
      await server.close();
    }
  });
});
