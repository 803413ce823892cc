import type { Schema } from '@ferry/protocol';
import { SyncError } from '../errors.js';
import { applyEntitySchema } from './entitySchemaDdl.js';
import type { SqlDriver } from './SqlDriver.js';
import { STORE_MIGRATIONS, STORE_SCHEMA_VERSION } from './schema.js';

/**
 * Creates or upgrades the store's tables to this build's schema version and, with a `schema`,
 * its indexes and views: all in one transaction, so a failed upgrade leaves the file as it was.
 * A file from a newer build is refused rather than written in a shape that build cannot read.
 */
export async function migrateStore(driver: SqlDriver, schema: Schema | undefined): Promise<void> {
  await driver.transaction(async (sql) => {
    await sql.execute('CREATE TABLE IF NOT EXISTS ferry_kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    const { rows } = await sql.execute("SELECT value FROM ferry_kv WHERE key = 'schemaVersion'");
    const current = rows[0] ? Number(rows[0].value) : 0;
    if (current > STORE_SCHEMA_VERSION) {
      throw new SyncError(
        'VALIDATION_ERROR',
        `The local database is from a newer Ferry (schema ${current}, this build knows ${STORE_SCHEMA_VERSION}); ` +
          'upgrade @ferry/client',
      );
    }
    for (let version = current; version < STORE_SCHEMA_VERSION; version++) {
      for (const statement of STORE_MIGRATIONS[version] ?? []) await sql.execute(statement);
    }
    await sql.execute(
      "INSERT INTO ferry_kv (key, value) VALUES ('schemaVersion', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      [String(STORE_SCHEMA_VERSION)],
    );
    if (schema) await applyEntitySchema(sql, schema);
  });
}
