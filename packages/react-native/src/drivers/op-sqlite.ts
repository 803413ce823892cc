/**
 * SqlDriver over op-sqlite, exposed as `@ferry/react-native/op-sqlite` so an app that does
 * not use op-sqlite never loads it. All of Ferry's SQL lives in the core; this only adapts
 * op-sqlite's `execute` / `transaction` / `close` to the driver interface.
 */
import type { SqlDriver, SqlExecutor, SqlResult, SqlRow, SqlValue } from '@ferry/client';
import { type DB, isSQLCipher, open, type QueryResult, type Scalar } from '@op-engineering/op-sqlite';

/** The part of op-sqlite's `DB` the driver uses. */
export type OpSqliteDatabase = Pick<DB, 'execute' | 'transaction' | 'close'>;

/** Where op-sqlite opens the database (its `open()` parameters). */
export interface OpSqliteOpenOptions {
  name: string;
  location?: string;
  /**
   * Encrypts the database at rest: op-sqlite's SQLCipher build keys the connection with it
   * on open. Needs `"op-sqlite": { "sqlcipher": true }` in the app's package.json (then
   * `pod install` and a rebuild); without it this driver refuses to open rather than write
   * plain text.
   */
  encryptionKey?: string;
}

/**
 * Opens (creating if needed) a database with op-sqlite and wraps it as a Ferry driver.
 *
 * @example
 * import { openOpSqliteDriver } from '@ferry/react-native/op-sqlite';
 * const sync = await createSyncSystem({ driver: openOpSqliteDriver({ name: 'app.db' }), apiBaseUrl });
 */
export function openOpSqliteDriver(options: OpSqliteOpenOptions): SqlDriver {
  if (options.encryptionKey !== undefined) {
    if (options.encryptionKey.length === 0) {
      throw new Error('encryptionKey is empty: pass the database key, or no encryptionKey at all');
    }
    // Plain SQLite would ignore the key and write plain text.
    if (!isSQLCipher()) {
      throw new Error(
        'encryptionKey needs op-sqlite built with SQLCipher: add "op-sqlite": { "sqlcipher": true } to your package.json, run pod install, and rebuild the app',
      );
    }
  }
  return createOpSqliteDriver(open(options));
}

/** Wraps an op-sqlite database that the app opened itself. */
export function createOpSqliteDriver(db: OpSqliteDatabase): SqlDriver {
  const executor = (target: Pick<OpSqliteDatabase, 'execute'>): SqlExecutor => ({
    async execute(sql, params = []) {
      return toResult(await target.execute(sql, params as Scalar[]));
    },
  });
  return {
    name: 'op-sqlite',
    ...executor(db),
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      let result: T | undefined;
      // op-sqlite commits when the callback resolves and rolls back when it throws.
      await db.transaction(async (tx) => {
        result = await fn(executor(tx));
      });
      return result as T;
    },
    async close() {
      db.close();
    },
  };
}

function toResult(result: QueryResult): SqlResult {
  return { rows: (result.rows ?? []).map(toRow), rowsAffected: result.rowsAffected ?? 0 };
}

function toRow(row: Record<string, Scalar>): SqlRow {
  const out: SqlRow = {};
  for (const [column, value] of Object.entries(row)) out[column] = toValue(value);
  return out;
}

function toValue(value: Scalar): SqlValue {
  if (value === null || typeof value === 'string' || typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  // Blobs come back as an ArrayBuffer (or a view of one).
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return new Uint8Array(value);
}
