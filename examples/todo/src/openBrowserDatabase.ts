/**
 * The demo's local database in the browser: sql.js's WebAssembly SQLite, with every committed
 * image saved to IndexedDB, one database per user and device (tab).
 */
import type { SqlDriver } from '@ferry/client';
import { createStore, get, set } from 'idb-keyval';
import initSqlJs, { type SqlJsStatic } from 'sql.js';
import wasmUrl from 'sql.js/dist/sql-wasm.wasm?url';
import { createSqlJsDriver, type DatabaseImages } from './sqljsDriver';

// One IndexedDB database holds every local SQLite image, keyed by name.
const store = createStore('ferry-todo', 'sqlite-images');

/** SQLite images in IndexedDB. */
export const indexedDbImages: DatabaseImages = {
  load: (name) => get<Uint8Array>(name, store),
  save: (name, image) => set(name, image, store),
};

let sqlJs: Promise<SqlJsStatic> | undefined;

/**
 * Opens (or creates) the SQLite database `name`, persisted in IndexedDB.
 *
 * @example
 * const sync = await createSyncSystem({ driver: await openBrowserDatabase('alice:3f9c'), ... });
 */
export function openBrowserDatabase(name: string): Promise<SqlDriver> {
  // The WebAssembly module is compiled once per page, whatever the number of databases.
  sqlJs ??= initSqlJs({ locateFile: () => wasmUrl });
  return sqlJs.then((SQL) => createSqlJsDriver(SQL, name, indexedDbImages));
}
