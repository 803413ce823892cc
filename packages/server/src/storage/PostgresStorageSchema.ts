import type { ServerRecord } from '@ferry/protocol';
import type pg from 'pg';

/**
 * Ordered migrations; index + 1 is the schema version. Text keys use the "C" collation so
 * `listRecords` orders entity ids byte-wise, as SQLite does, whatever the database's locale.
 * Entity types are data in a column, never identifiers.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE ferry_scopes (
     scope text COLLATE "C" PRIMARY KEY,
     seq bigint NOT NULL,
     pull_horizon bigint NOT NULL DEFAULT 0,
     log_horizon bigint NOT NULL DEFAULT 0
   );
   CREATE TABLE ferry_records (
     scope text COLLATE "C" NOT NULL,
     entity_type text COLLATE "C" NOT NULL,
     entity_id text COLLATE "C" NOT NULL,
     data jsonb,
     deleted boolean NOT NULL,
     version integer NOT NULL,
     vector jsonb NOT NULL,
     hlc text NOT NULL,
     field_hlcs jsonb NOT NULL,
     seq bigint NOT NULL,
     client_id text NOT NULL,
     change_id text NOT NULL,
     written_at bigint NOT NULL,
     PRIMARY KEY (scope, entity_type, entity_id)
   );
   CREATE INDEX ferry_records_scope_seq ON ferry_records (scope, seq);
   CREATE INDEX ferry_records_tombstones ON ferry_records (written_at) WHERE deleted;
   CREATE TABLE ferry_change_log (
     scope text COLLATE "C" NOT NULL,
     change_id text COLLATE "C" NOT NULL,
     seq bigint NOT NULL,
     client_id text NOT NULL,
     entity_type text NOT NULL,
     entity_id text NOT NULL,
     change jsonb NOT NULL,
     applied_at bigint NOT NULL,
     PRIMARY KEY (scope, change_id)
   );
   CREATE UNIQUE INDEX ferry_change_log_scope_seq ON ferry_change_log (scope, seq);
   CREATE INDEX ferry_change_log_applied_at ON ferry_change_log (applied_at);`,
  // Rate-limit windows (rateLimit/PostgresRateCounter.ts): unlogged, counts may be lost in a crash.
  `CREATE UNLOGGED TABLE ferry_rate_windows (
     bucket text COLLATE "C" NOT NULL,
     window_start bigint NOT NULL,
     hits integer NOT NULL,
     PRIMARY KEY (bucket, window_start)
   );`,
  // Shared spaces (docs/sharing.md): a space is a scope; these tables say who may use it.
  `CREATE TABLE ferry_spaces (
     id text COLLATE "C" PRIMARY KEY,
     name text NOT NULL,
     created_by text NOT NULL,
     created_at bigint NOT NULL
   );
   CREATE TABLE ferry_space_members (
     space text COLLATE "C" NOT NULL REFERENCES ferry_spaces (id),
     user_id text COLLATE "C" NOT NULL,
     role text NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
     PRIMARY KEY (space, user_id)
   );
   CREATE INDEX ferry_space_members_user ON ferry_space_members (user_id, space);`,
];

/** The schema version this server writes. */
export const POSTGRES_SCHEMA_VERSION = MIGRATIONS.length;

/** Any advisory-lock key works as long as every Ferry process uses the same one. */
const MIGRATION_LOCK_KEY = 0x0fe7_7a01;

/**
 * Brings the database to {@link POSTGRES_SCHEMA_VERSION}. Several processes starting at once
 * take turns on an advisory lock, so each migration runs once. Returns the version found.
 */
export async function migratePostgres(pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS ferry_schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ version: number | null }>(
      'SELECT max(version) AS version FROM ferry_schema_version',
    );
    const current = rows[0]?.version ?? 0;
    if (current > MIGRATIONS.length) {
      throw new Error(
        `Database is at Ferry schema version ${current}, newer than this server (${MIGRATIONS.length}); upgrade the server`,
      );
    }
    for (const [index, sql] of MIGRATIONS.slice(current).entries()) {
      await client.query(sql);
      await client.query('INSERT INTO ferry_schema_version (version) VALUES ($1)', [current + index + 1]);
    }
    await client.query('COMMIT');
    return current;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** A `ferry_records` row as `pg` returns it (bigint arrives as a string, jsonb parsed). */
export interface RecordRow {
  entity_type: string;
  entity_id: string;
  data: ServerRecord['data'];
  deleted: boolean;
  version: number;
  vector: ServerRecord['vector'];
  hlc: string;
  field_hlcs: ServerRecord['fieldHlcs'];
  seq: string;
  client_id: string;
  change_id: string;
}

/** Columns of a {@link RecordRow}, in order. */
export const RECORD_COLUMNS =
  'entity_type, entity_id, data, deleted, version, vector, hlc, field_hlcs, seq, client_id, change_id';

/** The row as the protocol's {@link ServerRecord}. */
export function toRecord(row: RecordRow): ServerRecord {
  return {
    entityType: row.entity_type,
    entityId: row.entity_id,
    data: row.data,
    deleted: row.deleted,
    version: row.version,
    vector: row.vector,
    hlc: row.hlc,
    fieldHlcs: row.field_hlcs,
    seq: Number(row.seq),
    clientId: row.client_id,
    changeId: row.change_id,
  };
}
