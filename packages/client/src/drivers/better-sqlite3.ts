/**
 * SqlDriver over better-sqlite3, for Node (tests, the simulator, server-side clients).
 * Exposed as the subpath `@ferry/client/better-sqlite3` so apps on a phone never load it.
 */
import Database from 'better-sqlite3';
import { SyncError } from '../errors.js';
import type { SqlDriver, SqlExecutor, SqlResult, SqlValue } from '../store/SqlDriver.js';

/** Options of {@link createBetterSqliteDriver}. */
export interface BetterSqliteDriverOptions {
  /** `PRAGMA synchronous`; FULL by default so a committed write survives a power cut. */
  synchronous?: 'OFF' | 'NORMAL' | 'FULL';
  /**
   * SQLite's page cache for this connection, in KiB; 2,000 by default. That is SQLite's own
   * default, the one op-sqlite and expo-sqlite run with on a phone; better-sqlite3 is built with
   * 16,000, which an initial sync of a large dataset fills with pages it wrote and never reads
   * again (about 14 MB more resident memory). Raise it for large read-heavy working sets.
   */
  cacheSizeKiB?: number;
}

/**
 * Opens (creating if needed) an SQLite file, in WAL mode.
 *
 * @example
 * const store = await LocalStore.open(createBetterSqliteDriver('./app.db'));
 */
export function createBetterSqliteDriver(path: string, options: BetterSqliteDriverOptions = {}): SqlDriver {
  const cacheSizeKiB = options.cacheSizeKiB ?? 2000;
  if (!Number.isInteger(cacheSizeKiB) || cacheSizeKiB < 1) {
    throw new SyncError('VALIDATION_ERROR', `cacheSizeKiB must be a positive integer (KiB), got ${cacheSizeKiB}`);
  }
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // Negative: a size in KiB rather than in pages.
  db.pragma(`cache_size = -${cacheSizeKiB}`);
  db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
  db.pragma('busy_timeout = 5000');
  const statements = new Map<string, Database.Statement>();

  const run = (sql: string, params: readonly SqlValue[] = []): SqlResult => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    if (statement.reader) return { rows: statement.all(...params) as SqlResult['rows'], rowsAffected: 0 };
    return { rows: [], rowsAffected: statement.run(...params).changes };
  };
  const executor: SqlExecutor = { execute: async (sql, params) => run(sql, params) };
  // Prepared once: a local write is one short transaction, where parsing these each time shows.
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');

  return {
    name: 'better-sqlite3',
    execute: executor.execute,
    async transaction(fn) {
      begin.run();
      try {
        const result = await fn(executor);
        commit.run();
        return result;
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw error;
      }
    },
    async close() {
      statements.clear();
      if (db.open) db.close();
    },
  };
}
