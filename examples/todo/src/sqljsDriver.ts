/**
 * A {@link SqlDriver} over sql.js: real SQLite compiled to WebAssembly, kept in memory and
 * saved as a whole image after every committed write, so reopening the same name finds the
 * same database: entities, outbox, cursor and all. Where images are kept is pluggable
 * (IndexedDB in the browser, see `openBrowserDatabase.ts`; a Map in tests).
 */
import type { SqlDriver, SqlExecutor, SqlResult, SqlRow, SqlValue } from '@ferry/client';
import type { Database, SqlJsStatic } from 'sql.js';

/** Where database images live between sessions. */
export interface DatabaseImages {
  load(name: string): Promise<Uint8Array | undefined>;
  save(name: string, image: Uint8Array): Promise<void>;
}

function run(db: Database, sql: string, params: readonly SqlValue[] = []): SqlResult {
  const statement = db.prepare(sql);
  try {
    statement.bind(params as SqlValue[]);
    const rows: SqlRow[] = [];
    while (statement.step()) rows.push(statement.getAsObject() as SqlRow);
    // getRowsModified keeps the count of the last write, so a read must report 0 itself.
    const reader = statement.getColumnNames().length > 0;
    return { rows, rowsAffected: reader ? 0 : db.getRowsModified() };
  } finally {
    statement.free();
  }
}

/**
 * Opens the database saved under `name`, or a new one. A transaction is saved once, after
 * COMMIT, and `transaction()` resolves only when the image is saved: a write the app saw
 * succeed survives a reload. Writes outside a transaction are saved too.
 *
 * @example
 * const SQL = await initSqlJs({ locateFile: () => wasmUrl });
 * const store = await LocalStore.open(await createSqlJsDriver(SQL, 'alice:device-1', images));
 */
export async function createSqlJsDriver(SQL: SqlJsStatic, name: string, images: DatabaseImages): Promise<SqlDriver> {
  const db = new SQL.Database(await images.load(name));
  let closed = false;
  // export() closes and reopens sql.js's connection: only ever called between transactions.
  const save = () => images.save(name, db.export());
  const assertOpen = () => {
    if (closed) throw new Error(`The local database "${name}" is closed; open it again`);
  };
  const executor: SqlExecutor = {
    execute: async (sql, params) => {
      assertOpen();
      return run(db, sql, params);
    },
  };

  return {
    async execute(sql, params) {
      assertOpen();
      const result = run(db, sql, params);
      if (result.rowsAffected > 0) await save();
      return result;
    },
    async transaction(fn) {
      assertOpen();
      db.run('BEGIN');
      let result: Awaited<ReturnType<typeof fn>>;
      try {
        result = await fn(executor);
        db.run('COMMIT');
      } catch (error) {
        try {
          db.run('ROLLBACK');
        } catch {
          // SQLite already ended the transaction (some errors roll back by themselves).
        }
        throw error;
      }
      await save();
      return result;
    },
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
