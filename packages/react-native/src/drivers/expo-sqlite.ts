/**
 * SqlDriver over expo-sqlite's async API (SDK 51+), exposed as
 * `@ferry/react-native/expo-sqlite` so an app that does not use expo-sqlite never loads it.
 *
 * The types below are the subset of expo-sqlite's `SQLiteDatabase` the driver calls, written
 * out structurally so this package builds without expo-sqlite installed.
 */
import type { SqlDriver, SqlExecutor, SqlRow } from '@ferry/client';

/** expo-sqlite's bind values. */
export type ExpoSqliteBindValue = string | number | null | boolean | Uint8Array;

/** The statements part of expo-sqlite's `SQLiteDatabase` (also what a transaction gets). */
export interface ExpoSqliteExecutor {
  runAsync(source: string, params: ExpoSqliteBindValue[]): Promise<{ lastInsertRowId: number; changes: number }>;
  getAllAsync<T>(source: string, params: ExpoSqliteBindValue[]): Promise<T[]>;
}

/** The part of expo-sqlite's `SQLiteDatabase` the driver uses. */
export interface ExpoSqliteDatabase extends ExpoSqliteExecutor {
  withExclusiveTransactionAsync(task: (txn: ExpoSqliteExecutor) => Promise<void>): Promise<void>;
  closeAsync(): Promise<void>;
}

// Statements whose rows we need; everything else goes through runAsync for its change count.
const RETURNS_ROWS = /^\s*(SELECT|WITH|PRAGMA|VALUES)\b|\bRETURNING\b/i;

/**
 * Wraps a database from expo-sqlite's `openDatabaseAsync` as a Ferry driver.
 *
 * @example
 * import { openDatabaseAsync } from 'expo-sqlite';
 * import { createExpoSqliteDriver } from '@ferry/react-native/expo-sqlite';
 * const driver = createExpoSqliteDriver(await openDatabaseAsync('app.db'));
 */
export function createExpoSqliteDriver(db: ExpoSqliteDatabase): SqlDriver {
  const executor = (target: ExpoSqliteExecutor): SqlExecutor => ({
    async execute(sql, params = []) {
      const bind = [...params] as ExpoSqliteBindValue[];
      if (RETURNS_ROWS.test(sql)) return { rows: await target.getAllAsync<SqlRow>(sql, bind), rowsAffected: 0 };
      return { rows: [], rowsAffected: (await target.runAsync(sql, bind)).changes };
    },
  });
  return {
    ...executor(db),
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      let result: T | undefined;
      // The exclusive variant runs the task on its own connection scope, so no other query
      // can slip into the transaction (withTransactionAsync does not guarantee that).
      await db.withExclusiveTransactionAsync(async (txn) => {
        result = await fn(executor(txn));
      });
      return result as T;
    },
    close: () => db.closeAsync(),
  };
}
