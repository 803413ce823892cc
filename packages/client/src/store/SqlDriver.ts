/** A value SQLite can bind or return. */
export type SqlValue = string | number | null | Uint8Array;

/** A row as a plain object keyed by column name. */
export type SqlRow = Record<string, SqlValue>;

/** The result of one statement. */
export interface SqlResult {
  rows: SqlRow[];
  rowsAffected: number;
}

/** Runs one statement with positional `?` parameters. */
export interface SqlExecutor {
  execute(sql: string, params?: readonly SqlValue[]): Promise<SqlResult>;
}

/**
 * The tiny interface every SQLite binding implements (better-sqlite3 in Node, op-sqlite and
 * expo-sqlite on a device). Everything else, the SQL included, lives once in the core.
 *
 * Drivers need not be re-entrant: {@link LocalStore} serialises every call, so a
 * transaction never interleaves with another statement.
 */
export interface SqlDriver extends SqlExecutor {
  /** Which driver this is (`better-sqlite3`, `op-sqlite`, `expo-sqlite`), for diagnostics. */
  readonly name?: string;
  /** Runs `fn` between BEGIN and COMMIT; rolls back and rethrows when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Closes the database; the driver is unusable afterwards. */
  close(): Promise<void>;
}
