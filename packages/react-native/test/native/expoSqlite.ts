/**
 * Stand-in for expo-sqlite, which cannot run in Node (its SQLite is native code, reached
 * through Expo's module system). It has expo-sqlite's async API shape, the part Ferry's
 * driver uses plus its neighbours: `openDatabaseAsync(name, options, directory)`,
 * `runAsync`, `getAllAsync` (array or variadic parameters), `execAsync`,
 * `withTransactionAsync`, `withExclusiveTransactionAsync` and `closeAsync`, over a real
 * SQLite file through better-sqlite3. As on a device, an exclusive transaction runs on its
 * own connection to the same file, and booleans bind as 0/1.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';

type Bind = string | number | null | boolean | Uint8Array;
type Params = Bind[] | [Bind[]];

const toBind = (params: Params): unknown[] => {
  const flat = (params.length === 1 && Array.isArray(params[0]) ? params[0] : params) as Bind[];
  return flat.map((value) => (typeof value === 'boolean' ? Number(value) : value));
};

/** A connection with expo-sqlite's `SQLiteDatabase` methods. */
export class StandInSQLiteDatabase {
  readonly databasePath: string;
  readonly #db: Database.Database;

  constructor(databasePath: string) {
    this.databasePath = databasePath;
    this.#db = new Database(databasePath);
    this.#db.pragma('busy_timeout = 5000');
  }

  async runAsync(source: string, ...params: Params): Promise<{ lastInsertRowId: number; changes: number }> {
    const info = this.#db.prepare(source).run(...toBind(params));
    return { lastInsertRowId: Number(info.lastInsertRowid), changes: info.changes };
  }

  async getAllAsync<T>(source: string, ...params: Params): Promise<T[]> {
    const statement = this.#db.prepare(source);
    if (!statement.reader) {
      statement.run(...toBind(params));
      return [];
    }
    return statement.all(...toBind(params)) as T[];
  }

  async execAsync(source: string): Promise<void> {
    this.#db.exec(source);
  }

  /** Not exclusive: other calls on this connection may interleave, as in expo-sqlite. */
  async withTransactionAsync(task: () => Promise<void>): Promise<void> {
    this.#db.exec('BEGIN');
    try {
      await task();
      this.#db.exec('COMMIT');
    } catch (error) {
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  /** Runs `task` on a separate connection holding the write lock, as expo-sqlite does. */
  async withExclusiveTransactionAsync(task: (txn: StandInSQLiteDatabase) => Promise<void>): Promise<void> {
    const txn = new StandInSQLiteDatabase(this.databasePath);
    try {
      await txn.execAsync('BEGIN IMMEDIATE');
      try {
        await task(txn);
        await txn.execAsync('COMMIT');
      } catch (error) {
        if (txn.#db.inTransaction) await txn.execAsync('ROLLBACK');
        throw error;
      }
    } finally {
      await txn.closeAsync();
    }
  }

  async closeAsync(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}

/** expo-sqlite's `openDatabaseAsync(databaseName, options?, directory?)`. */
export async function openDatabaseAsync(
  databaseName: string,
  _options: Record<string, unknown> = {},
  directory = '.',
): Promise<StandInSQLiteDatabase> {
  const db = new StandInSQLiteDatabase(join(directory, databaseName));
  await db.execAsync('PRAGMA journal_mode = WAL');
  return db;
}
