/**
 * Encryption at rest with op-sqlite: `openOpSqliteDriver({ name, encryptionKey })` hands the
 * key to op-sqlite's `open`, whose SQLCipher build (the `"op-sqlite": { "sqlcipher": true }`
 * flag in the app's package.json) keys the connection before anything else runs.
 *
 * op-sqlite's own Node build (the one jest.config.cjs maps in) runs its JavaScript over
 * better-sqlite3 and has no cipher: it warns and drops the key. Two stand-ins at that native
 * boundary, and only there: better-sqlite3 becomes better-sqlite3-multiple-ciphers (same API,
 * SQLite3 Multiple Ciphers set to SQLCipher 4's format), and `open` does what the SQLCipher
 * build's native open does with `encryptionKey`: `PRAGMA key` first.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalStore } from '@ferry/client';
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { startServer } from '../../test/support/server.ts';
import { tempDir } from '../../test/support/tempDir.ts';
import { openOpSqliteDriver } from './op-sqlite.ts';

jest.mock('better-sqlite3', () => {
  const Cipher = jest.requireActual<typeof import('better-sqlite3-multiple-ciphers')>(
    'better-sqlite3-multiple-ciphers',
  );
  return function SQLCipherDatabase(path: string) {
    const db = new Cipher(path);
    db.pragma("cipher = 'sqlcipher'");
    db.pragma('legacy = 4');
    return db;
  };
});
jest.mock('@op-engineering/op-sqlite', () => {
  const nodeBuild = jest.requireActual<typeof import('@op-engineering/op-sqlite')>('@op-engineering/op-sqlite');
  return {
    ...nodeBuild,
    isSQLCipher: () => mockSqlcipherBuild,
    open(options: Parameters<typeof nodeBuild.open>[0]) {
      const key = options.encryptionKey;
      const db = nodeBuild.open({ name: options.name, ...(options.location ? { location: options.location } : {}) });
      // What op-sqlite's SQLCipher build does on open; the Node build's connection is `db.db`.
      if (key !== undefined)
        (db as unknown as { db: { pragma(sql: string): unknown } }).db.pragma(`key = '${key.replaceAll("'", "''")}'`);
      return db;
    },
  };
});

// op-sqlite's `sqlcipher` package.json flag, as the build saw it.
let mockSqlcipherBuild = true;
const temp = tempDir('op-sqlite-cipher');
afterAll(() => temp.remove());
const KEY = 'op-sqlite secret key';

describe('op-sqlite driver: encryption at rest (SQLCipher)', () => {
  it('passes encryptionKey to op-sqlite: the file is unreadable without the key and reads back with it', async () => {
    const store = await LocalStore.open(
      openOpSqliteDriver({ name: 'cipher.db', location: temp.dir, encryptionKey: KEY }),
    );
    await store.kv.setItem('note', 'op-sqlite plaintext');
    await store.close();

    const bytes = readFileSync(join(temp.dir, 'cipher.db'));
    expect(bytes.subarray(0, 15).toString('latin1')).not.toBe('SQLite format 3');
    expect(bytes.includes(Buffer.from('op-sqlite plaintext'))).toBe(false);

    const withoutKey = openOpSqliteDriver({ name: 'cipher.db', location: temp.dir });
    await expect(withoutKey.execute('SELECT count(*) AS n FROM sqlite_master')).rejects.toThrow(/not a database/);
    await withoutKey.close();

    const reader = await LocalStore.open(
      openOpSqliteDriver({ name: 'cipher.db', location: temp.dir, encryptionKey: KEY }),
    );
    expect(await reader.kv.getItem('note')).toBe('op-sqlite plaintext');
    await reader.close();
  });

  it('refuses a key when op-sqlite was built without SQLCipher, instead of writing plain text', () => {
    mockSqlcipherBuild = false;
    try {
      expect(() => openOpSqliteDriver({ name: 'plain.db', location: temp.dir, encryptionKey: KEY })).toThrow(
        '"op-sqlite": { "sqlcipher": true }',
      );
      expect(() => openOpSqliteDriver({ name: 'plain.db', location: temp.dir, encryptionKey: '' })).toThrow('empty');
    } finally {
      mockSqlcipherBuild = true;
    }
  });

  it('syncs over an encrypted database with a real server', async () => {
    const server = await startServer();
    try {
      const open = (name: string) =>
        server.device(name, {
          driver: openOpSqliteDriver({ name: `${name}.db`, location: temp.dir, encryptionKey: KEY }),
        });
      const phone = await open('op-phone');
      const tablet = await open('op-tablet');
      await phone.collection('todos').insert({ id: 'o1', title: 'sealed on both devices' });
      await phone.forceSync();
      await tablet.forceSync();
      expect(await tablet.collection('todos').get('o1')).toMatchObject({ title: 'sealed on both devices' });
      await tablet.close();
      expect(readFileSync(join(temp.dir, 'op-tablet.db')).includes(Buffer.from('sealed on both devices'))).toBe(false);
    } finally {
      await server.close();
    }
  });
});
