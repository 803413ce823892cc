/**
 * SqlDriver over expo-sqlite's async API (SDK 52+), exposed as
 * `@ferry/react-native/expo-sqlite` so an app that does not use expo-sqlite never loads it.
 *
 * Everything runs on the one connection the app opened: transactions too. expo-sqlite's
 * `withExclusiveTransactionAsync` would open a second native connection for every write, and
 * that connection sees neither a `:memory:` database nor the pragmas (SQLCipher's `key`,
 * `busy_timeout`) set on the first. Instead the driver runs BEGIN IMMEDIATE … COMMIT itself
 * and queues every other statement behind an open transaction, so none slips into it.
 *
 * The types below are the subset of expo-sqlite's `SQLiteDatabase` the driver calls, written
 * out structurally so this package builds without expo-sqlite installed.
 */
import type { SqlDriver, SqlExecutor, SqlRow } from '@ferry/client';

/** expo-sqlite's bind values. */
export type ExpoSqliteBindValue = string | number | null | boolean | Uint8Array;

/** The part of expo-sqlite's `SQLiteDatabase` the driver uses. */
export interface ExpoSqliteDatabase {
  runAsync(source: string, params: ExpoSqliteBindValue[]): Promise<{ lastInsertRowId: number; changes: number }>;
  getAllAsync<T>(source: string, params: ExpoSqliteBindValue[]): Promise<T[]>;
  execAsync(source: string): Promise<void>;
  closeAsync(): Promise<void>;
}

/** Options of {@link createExpoSqliteDriver}. */
export interface ExpoSqliteDriverOptions {
  /**
   * Encrypts the database at rest with SQLCipher: the driver sends `PRAGMA key` before any
   * other statement. Needs expo-sqlite built with SQLCipher (`["expo-sqlite", { "useSQLCipher": true }]`
   * in app.json's plugins); without it the driver refuses to run rather than write plain text.
   */
  encryptionKey?: string;
}

// Statements whose rows we need; everything else goes through runAsync for its change count.
const RETURNS_ROWS = /^\s*(SELECT|WITH|PRAGMA|VALUES)\b|\bRETURNING\b/i;

/**
 * Wraps a database from expo-sqlite's `openDatabaseAsync` as a Ferry driver. Give the driver
 * the connection to itself: statements the app runs on it directly could land inside one of
 * Ferry's transactions.
 *
 * @example
 * import { openDatabaseAsync } from 'expo-sqlite';
 * import { createExpoSqliteDriver } from '@ferry/react-native/expo-sqlite';
 * const driver = createExpoSqliteDriver(await openDatabaseAsync('app.db'), { encryptionKey });
 */
export function createExpoSqliteDriver(db: ExpoSqliteDatabase, options: ExpoSqliteDriverOptions = {}): SqlDriver {
  const executor: SqlExecutor = {
    async execute(sql, params = []) {
      const bind = [...params] as ExpoSqliteBindValue[];
      if (RETURNS_ROWS.test(sql)) return { rows: await db.getAllAsync<SqlRow>(sql, bind), rowsAffected: 0 };
      return { rows: [], rowsAffected: (await db.runAsync(sql, bind)).changes };
    },
  };
  // The key must be the connection's first statement; a failure here fails every call after.
  const ready = options.encryptionKey === undefined ? Promise.resolve() : applyKey(db, options.encryptionKey);
  let tail: Promise<unknown> = ready.catch(() => undefined);
  // One job at a time on the connection: a statement never runs inside another's transaction.
  const exclusive = <T>(job: () => Promise<T>, needsKey = true): Promise<T> => {
    const run = tail.then(() => (needsKey ? ready : undefined)).then(job);
    tail = run.catch(() => undefined);
    return run;
  };

  return {
    name: 'expo-sqlite',
    execute: (sql, params) => exclusive(() => executor.execute(sql, params)),
    transaction: <T>(fn: (tx: SqlExecutor) => Promise<T>) =>
      exclusive(async () => {
        await db.execAsync('BEGIN IMMEDIATE');
        try {
          const result = await fn(executor);
          await db.execAsync('COMMIT');
          return result;
        } catch (error) {
          // SQLite may already have rolled back (SQLITE_FULL, an interrupt): keep the first error.
          await db.execAsync('ROLLBACK').catch(() => undefined);
          throw error;
        }
      }),
    // Closing needs no key: a connection whose key failed still closes.
    close: () => exclusive(() => db.closeAsync(), false),
  };
}

async function applyKey(db: ExpoSqliteDatabase, key: string): Promise<void> {
  if (key.length === 0) throw new Error('encryptionKey is empty: pass the database key, or no encryptionKey at all');
  // A SQLite without a cipher ignores `PRAGMA key` and would write plain text: refuse it.
  // SQLCipher answers `cipher_version`; SQLite3 Multiple Ciphers answers `cipher`.
  const sqlcipher = await db.getAllAsync<SqlRow>('PRAGMA cipher_version', []);
  if (sqlcipher.length === 0 && (await db.getAllAsync<SqlRow>('PRAGMA cipher', [])).length === 0) {
    throw new Error(
      'encryptionKey needs expo-sqlite built with SQLCipher: add ["expo-sqlite", { "useSQLCipher": true }] to the plugins in app.json, then rebuild the app',
    );
  }
  await db.execAsync(`PRAGMA key = '${key.replaceAll("'", "''")}'`);
  try {
    // The first read decrypts page 1: a wrong key fails here, not in the middle of a sync.
    await db.getAllAsync('SELECT count(*) AS n FROM sqlite_master', []);
  } catch (cause) {
    throw new Error(
      'expo-sqlite could not read the database with this encryptionKey: the key is wrong, or the file was written without encryption',
      { cause },
    );
  }
}
