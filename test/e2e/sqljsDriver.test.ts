/**
 * The demo's browser driver (sql.js, WebAssembly SQLite) passes the store contract every
 * local store passes, here in Node with images kept in a Map instead of IndexedDB. Reopening
 * a name loads its saved image, so the contract's restart cases check what a reload keeps.
 */
import { createRequire } from 'node:module';
import initSqlJs from 'sql.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqlJsDriver, type DatabaseImages } from '../../examples/todo/src/sqljsDriver.js';
import { LocalStore } from '../../packages/client/src/store/LocalStore.js';
import { runStoreContract } from '../../packages/client/src/testing/storeContract.js';

const wasm = createRequire(import.meta.url).resolve('sql.js/dist/sql-wasm.wasm');
const SQL = await initSqlJs({ locateFile: () => wasm });

function mapImages(): DatabaseImages & { saves: number; images: Map<string, Uint8Array> } {
  const images = new Map<string, Uint8Array>();
  return {
    images,
    saves: 0,
    async load(name) {
      return images.get(name);
    },
    async save(name, image) {
      this.saves++;
      images.set(name, image);
    },
  };
}

const shared = mapImages();
runStoreContract('sql.js', { describe, it, expect, beforeEach, afterEach }, (name) =>
  createSqlJsDriver(SQL, name, shared),
);

describe('sql.js driver persistence', () => {
  it('saves once per committed transaction and never a rolled-back one', async () => {
    const images = mapImages();
    const driver = await createSqlJsDriver(SQL, 'db', images);
    await driver.execute('CREATE TABLE t (v TEXT)');
    const afterCreate = images.saves;
    await driver.transaction(async (tx) => {
      await tx.execute('INSERT INTO t VALUES (?)', ['a']);
      await tx.execute('INSERT INTO t VALUES (?)', ['b']);
    });
    expect(images.saves).toBe(afterCreate + 1);
    await expect(
      driver.transaction(async (tx) => {
        await tx.execute('INSERT INTO t VALUES (?)', ['lost']);
        throw new Error('app failure');
      }),
    ).rejects.toThrow('app failure');
    expect(images.saves).toBe(afterCreate + 1);
    await driver.close();

    const reopened = await createSqlJsDriver(SQL, 'db', images);
    expect((await reopened.execute('SELECT v FROM t ORDER BY v')).rows).toEqual([{ v: 'a' }, { v: 'b' }]);
    await reopened.close();
  });

  it('reopens a store with its pending changes, as a reload does', async () => {
    const images = mapImages();
    const store = await LocalStore.open(await createSqlJsDriver(SQL, 'alice:tab', images));
    await store.kv.setItem('cursor', '41');
    await store.close();
    const again = await LocalStore.open(await createSqlJsDriver(SQL, 'alice:tab', images));
    expect(await again.kv.getItem('cursor')).toBe('41');
    await again.close();
    await expect(again.kv.getItem('cursor')).rejects.toThrow(/closed/);
  });
});
