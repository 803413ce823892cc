import type { Role, ServerRecord } from '@ferry/protocol';
import type Database from 'better-sqlite3';
import type { Page, SpaceRoster, SpaceState } from './ServerStorage.js';

// SqliteStorage's schema and statements: the tables, their migrations, and every statement
// prepared once per connection.

/**
 * Ordered migrations; index + 1 is the schema version. Entity types are data in a column,
 * never identifiers, so a new entity type never needs a migration.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE scopes (
     scope TEXT PRIMARY KEY,
     seq INTEGER NOT NULL
   ) STRICT;
   CREATE TABLE records (
     scope TEXT NOT NULL,
     entity_type TEXT NOT NULL,
     entity_id TEXT NOT NULL,
     data TEXT,
     deleted INTEGER NOT NULL,
     version INTEGER NOT NULL,
     vector TEXT NOT NULL,
     hlc TEXT NOT NULL,
     field_hlcs TEXT NOT NULL,
     seq INTEGER NOT NULL,
     client_id TEXT NOT NULL,
     change_id TEXT NOT NULL,
     PRIMARY KEY (scope, entity_type, entity_id)
   ) STRICT;
   CREATE INDEX records_scope_seq ON records (scope, seq);
   CREATE TABLE change_log (
     scope TEXT NOT NULL,
     change_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     client_id TEXT NOT NULL,
     entity_type TEXT NOT NULL,
     entity_id TEXT NOT NULL,
     change TEXT NOT NULL,
     PRIMARY KEY (scope, change_id)
   ) STRICT;
   CREATE UNIQUE INDEX change_log_scope_seq ON change_log (scope, seq);`,
  // History compaction: write times, and per-scope horizons below which history is gone.
  `ALTER TABLE scopes ADD COLUMN pull_horizon INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE scopes ADD COLUMN log_horizon INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE records ADD COLUMN written_at INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE change_log ADD COLUMN applied_at INTEGER NOT NULL DEFAULT 0;
   CREATE INDEX records_tombstones ON records (written_at) WHERE deleted = 1;
   CREATE INDEX change_log_applied_at ON change_log (applied_at);`,
  // Shared spaces (docs/sharing.md): a space is a scope; these tables say who may use it.
  `CREATE TABLE spaces (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     created_by TEXT NOT NULL,
     created_at INTEGER NOT NULL
   ) STRICT;
   CREATE TABLE space_members (
     space TEXT NOT NULL REFERENCES spaces (id),
     user_id TEXT NOT NULL,
     role TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
     PRIMARY KEY (space, user_id)
   ) STRICT;
   CREATE INDEX space_members_user ON space_members (user_id, space);`,
  // The change log's key leads with the change id instead of the scope. Change ids start with
  // their HLC's wall time, so a group commit's new keys land on the same, last leaf of that
  // index instead of one leaf per scope: fewer pages written and synced per commit. Duplicate
  // checks probe both columns either way. SQLite cannot alter a primary key: the table is rebuilt.
  `CREATE TABLE change_log_v4 (
     scope TEXT NOT NULL,
     change_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     client_id TEXT NOT NULL,
     entity_type TEXT NOT NULL,
     entity_id TEXT NOT NULL,
     change TEXT NOT NULL,
     applied_at INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (change_id, scope)
   ) STRICT;
   INSERT INTO change_log_v4 (scope, change_id, seq, client_id, entity_type, entity_id, change, applied_at)
     SELECT scope, change_id, seq, client_id, entity_type, entity_id, change, applied_at FROM change_log ORDER BY rowid;
   DROP TABLE change_log;
   ALTER TABLE change_log_v4 RENAME TO change_log;
   CREATE UNIQUE INDEX change_log_scope_seq ON change_log (scope, seq);
   CREATE INDEX change_log_applied_at ON change_log (applied_at);`,
];

/** A row of `records` as better-sqlite3 returns it. */
export interface RecordRow {
  entity_type: string;
  entity_id: string;
  data: string | null;
  deleted: number;
  version: number;
  vector: string;
  hlc: string;
  field_hlcs: string;
  seq: number;
  client_id: string;
  change_id: string;
}

/** The columns of a record, in the order {@link toRecord} and the JSON pull read them. */
export const RECORD_COLUMNS =
  'entity_type, entity_id, data, deleted, version, vector, hlc, field_hlcs, seq, client_id, change_id';

/** A stored record, parsed. */
export function toRecord(row: RecordRow): ServerRecord {
  return {
    entityType: row.entity_type,
    entityId: row.entity_id,
    data: row.data === null ? null : JSON.parse(row.data),
    deleted: row.deleted === 1,
    version: row.version,
    vector: JSON.parse(row.vector),
    hlc: row.hlc,
    fieldHlcs: JSON.parse(row.field_hlcs),
    seq: row.seq,
    clientId: row.client_id,
    changeId: row.change_id,
  };
}

/** A record's key in a push's in-memory map (ids never contain control characters). */
export function recordKey(entityType: string, entityId: string): string {
  return `${entityType}\u0000${entityId}`;
}

/** The first `limit` rows, and whether there were more (the query asks for `limit + 1`). */
export function page<T>(rows: T[], limit: number): Page<T> {
  return rows.length > limit ? { items: rows.slice(0, limit), hasMore: true } : { items: rows, hasMore: false };
}

/**
 * What SqliteStorage uses of a prepared statement. Its own interface: better-sqlite3's type
 * lives in a namespace declaration files cannot name.
 */
export interface Statement<P extends unknown[], R> {
  run(...params: P): Database.RunResult;
  get(...params: P): R | undefined;
  all(...params: P): R[];
}

function prepare<P extends unknown[] = unknown[], R = unknown>(db: Database.Database, sql: string): Statement<P, R> {
  return db.prepare<P, R>(sql);
}

/**
 * The row limit of a page query. The unary plus keeps SQLite's planner from reading the bound
 * value: a plain `LIMIT ?` is a parameter the plan depends on, so SQLite re-prepares the
 * statement on every run with a new binding (better-sqlite3 binds on every call), which
 * doubled the cost of a small pull. The rows are the same either way.
 */
const LIMIT = 'LIMIT +?';

/** Prepared once; statement text never contains data. */
export function prepareStatements(db: Database.Database) {
  return {
    // The push transaction is IMMEDIATE (the only writer), so it reads the sequence once,
    // numbers its changes in memory and stores the last number at the end.
    setSeq: prepare<[string, number]>(
      db,
      `INSERT INTO scopes (scope, seq) VALUES (?, ?)
       ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq`,
    ),
    currentSeq: prepare<[string], { seq: number }>(db, 'SELECT seq FROM scopes WHERE scope = ?'),
    getRecord: prepare<[string, string, string], RecordRow>(
      db,
      `SELECT ${RECORD_COLUMNS} FROM records WHERE scope = ? AND entity_type = ? AND entity_id = ?`,
    ),
    // A push's current records and already-logged ids, one query each instead of two per
    // change. The keys travel as one JSON parameter; CROSS JOIN keeps json_each the outer loop,
    // so each key is one primary-key probe.
    recordsIn: prepare<[string, string], RecordRow>(
      db,
      `SELECT ${RECORD_COLUMNS} FROM json_each(?) AS k CROSS JOIN records
       WHERE scope = ? AND entity_type = json_extract(k.value, '$[0]') AND entity_id = json_extract(k.value, '$[1]')`,
    ),
    isLogged: prepare<[string, string], { found: number }>(
      db,
      'SELECT 1 AS found FROM change_log WHERE change_id = ? AND scope = ?',
    ),
    loggedIn: prepare<[string, string], { change_id: string }>(
      db,
      'SELECT change_id FROM json_each(?) AS k CROSS JOIN change_log WHERE scope = ? AND change_id = k.value',
    ),
    // Positional parameters: binding a named-parameter object costs more per row.
    upsertRecord: prepare<
      [string, string, string, string | null, number, number, string, string, string, number, string, string, number]
    >(
      db,
      `INSERT INTO records (scope, ${RECORD_COLUMNS}, written_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (scope, entity_type, entity_id) DO UPDATE SET
         data = excluded.data, deleted = excluded.deleted, version = excluded.version, vector = excluded.vector,
         hlc = excluded.hlc, field_hlcs = excluded.field_hlcs, seq = excluded.seq,
         client_id = excluded.client_id, change_id = excluded.change_id, written_at = excluded.written_at`,
    ),
    logChange: prepare(
      db,
      `INSERT INTO change_log (scope, change_id, seq, client_id, entity_type, entity_id, change, applied_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    pull: prepare<[string, number, number], RecordRow>(
      db,
      `SELECT ${RECORD_COLUMNS} FROM records WHERE scope = ? AND seq > ? ORDER BY seq ${LIMIT}`,
    ),
    // The type list travels as one JSON parameter, so the statement stays prepared and typed.
    pullTypes: prepare<[string, number, string, number], RecordRow>(
      db,
      `SELECT ${RECORD_COLUMNS} FROM records
       WHERE scope = ? AND seq > ? AND entity_type IN (SELECT value FROM json_each(?))
       ORDER BY seq ${LIMIT}`,
    ),
    changesSince: prepare<[string, number, number], { seq: number; change: string }>(
      db,
      `SELECT seq, change FROM change_log WHERE scope = ? AND seq > ? ORDER BY seq ${LIMIT}`,
    ),
    roleOf: prepare<[string, string], { role: Role }>(
      db,
      'SELECT role FROM space_members WHERE space = ? AND user_id = ?',
    ),
    members: prepare<[string], { user_id: string }>(db, 'SELECT user_id FROM space_members WHERE space = ?'),
    roster: prepare<[string, string], SpaceRoster>(
      db,
      `SELECT coalesce(sum(role = 'owner'), 0) AS owners, count(*) AS members,
         max(CASE WHEN user_id = ? THEN role END) AS subjectRole
       FROM space_members WHERE space = ?`,
    ),
    memberships: prepare<[string], SpaceState>(
      db,
      `SELECT m.space AS id, s.name AS name, m.role AS role, coalesce(c.seq, 0) AS seq
       FROM space_members m JOIN spaces s ON s.id = m.space LEFT JOIN scopes c ON c.scope = m.space
       WHERE m.user_id = ? ORDER BY m.space`,
    ),
    currentSeqs: prepare<[string], { scope: string; seq: number }>(
      db,
      'SELECT scope, seq FROM json_each(?) AS k CROSS JOIN scopes WHERE scope = k.value',
    ),
    createSpace: prepare<[string, string, string, number]>(
      db,
      'INSERT INTO spaces (id, name, created_by, created_at) VALUES (?, ?, ?, ?)',
    ),
    renameSpace: prepare<[string, string]>(db, 'UPDATE spaces SET name = ? WHERE id = ?'),
    setMember: prepare<[string, string, string]>(
      db,
      `INSERT INTO space_members (space, user_id, role) VALUES (?, ?, ?)
       ON CONFLICT (space, user_id) DO UPDATE SET role = excluded.role`,
    ),
    removeMember: prepare<[string, string]>(db, 'DELETE FROM space_members WHERE space = ? AND user_id = ?'),
    listRecords: prepare<[string, string, string, number], RecordRow>(
      db,
      `SELECT ${RECORD_COLUMNS} FROM records
       WHERE scope = ? AND entity_type = ? AND entity_id > ? AND deleted = 0
       ORDER BY entity_id ${LIMIT}`,
    ),
  };
}

/** The prepared statements of one database connection. */
export type Statements = ReturnType<typeof prepareStatements>;
