/**
 * Stand-in for expo-sqlite, which cannot run in Node (its SQLite is native code, reached
 * through Expo's module system). It has the exact shape of expo-sqlite's async API (checked
 * against expo-sqlite's own type declarations by test/types/), the part Ferry's driver uses
 * plus its neighbours: `openDatabaseAsync(name, options, directory)`, `runAsync` and
 * `getAllAsync` (array or variadic parameters), `execAsync`, `withTransactionAsync`,
 * `withExclusiveTransactionAsync` and `closeAsync`, over a real SQLite database. As on a
 * device: `:memory:` is a private in-memory database per connection, an exclusive
 * transaction runs on a new connection of its own (expo-sqlite's `Transaction.createAsync`),
 * booleans bind as 0/1, and nothing is set on a new connection (no pragma, no journal mode).
 *
 * expo-sqlite's `useSQLCipher` build flag is {@link useStandInSQLCipher}: with it, the SQLite
 * underneath is SQLite3 Multiple Ciphers (better-sqlite3-multiple-ciphers) set to SQLCipher 4's
 * format, so `PRAGMA key` really encrypts the file; without it, plain SQLite
 * (better-sqlite3), which ignores `PRAGMA key` as SQLite does.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import CipherDatabase from 'better-sqlite3-multiple-ciphers';

type Bind = string | number | null | boolean | Uint8Array;
type Params = Bind[] | [Bind[]];

let sqlcipherBuild = false;

/** Builds the stand-in "with SQLCipher" (expo-sqlite's `useSQLCipher` config plugin flag) or not. */
export function useStandInSQLCipher(enabled: boolean): void {
  sqlcipherBuild = enabled;
}

const toBind = (params: Params): unknown[] => {
  const flat = (params.length === 1 && Array.isArray(params[0]) ? params[0] : params) as Bind[];
  return flat.map((value) => (typeof value === 'boolean' ? Number(value) : value));
};

function connect(databasePath: string): Database.Database {
  if (!sqlcipherBuild) return new Database(databasePath);
  const db = new CipherDatabase(databasePath) as unknown as Database.Database;
  // SQLCipher 4's format, which expo-sqlite's SQLCipher build writes.
  db.pragma("cipher = 'sqlcipher'");
  db.pragma('legacy = 4');
  return db;
}

/** A connection with expo-sqlite's `SQLiteDatabase` methods. */
export class StandInSQLiteDatabase {
  readonly databasePath: string;
  readonly #db: Database.Database;

  constructor(databasePath: string) {
    this.databasePath = databasePath;
    this.#db = connect(databasePath);
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
    await this.execAsync('BEGIN');
    try {
      await task();
      await this.execAsync('COMMIT');
    } catch (error) {
      await this.execAsync('ROLLBACK');
      throw error;
    }
  }

  /** Runs `task` on a new connection to the same database, as expo-sqlite does. */
  async withExclusiveTransactionAsync(task: (txn: StandInSQLiteDatabase) => Promise<void>): Promise<void> {
    const txn = new StandInSQLiteDatabase(this.databasePath);
    try {
      await txn.execAsync('BEGIN');
      try {
        await task(txn);
        await txn.execAsync('COMMIT');
      } catch (error) {
        await txn.execAsync('ROLLBACK');
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
  return new StandInSQLiteDatabase(databaseName === ':memory:' ? ':memory:' : join(directory, databaseName));
}
