/**
 * The local database layout. Entity type names are data in a column, never table names,
 * so no user string ever becomes an SQL identifier.
 */
export const STORE_SCHEMA_VERSION = 3;

export const STORE_MIGRATIONS: readonly string[][] = [
  [
    `CREATE TABLE IF NOT EXISTS ferry_kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ferry_entities (
      entity_type TEXT NOT NULL,
      entity_id TEXT NOT NULL,
      data TEXT,
      deleted INTEGER NOT NULL DEFAULT 0,
      version INTEGER NOT NULL,
      vector TEXT NOT NULL,
      hlc TEXT NOT NULL,
      field_hlcs TEXT NOT NULL,
      server_version INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (entity_type, entity_id)
    )`,
    `CREATE TABLE IF NOT EXISTS ferry_outbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      change_id TEXT NOT NULL UNIQUE,
      entity_type TEXT NOT NULL,
      entity_id TEXT NOT NULL,
      operation TEXT NOT NULL,
      data TEXT,
      timestamp INTEGER NOT NULL,
      hlc TEXT NOT NULL,
      version INTEGER NOT NULL,
      vector TEXT NOT NULL,
      client_id TEXT NOT NULL,
      field_hlcs TEXT,
      held INTEGER NOT NULL DEFAULT 0,
      attempts INTEGER NOT NULL DEFAULT 0,
      last_error TEXT
    )`,
    `CREATE INDEX IF NOT EXISTS ferry_outbox_entity ON ferry_outbox (entity_type, entity_id)`,
    `CREATE TABLE IF NOT EXISTS ferry_conflicts (
      id TEXT PRIMARY KEY,
      entity_type TEXT NOT NULL,
      entity_id TEXT NOT NULL,
      conflict TEXT NOT NULL,
      created_at INTEGER NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS ferry_dead_letters (
      change_id TEXT PRIMARY KEY,
      change TEXT NOT NULL,
      error TEXT NOT NULL,
      failed_at INTEGER NOT NULL
    )`,
  ],
  // Shared spaces (docs/sharing.md): the space of each record and of each queued change
  // (NULL: the user's private space, which is where every record of an older store lives).
  [
    'ALTER TABLE ferry_entities ADD COLUMN space TEXT',
    'ALTER TABLE ferry_outbox ADD COLUMN space TEXT',
    'CREATE INDEX IF NOT EXISTS ferry_entities_space ON ferry_entities (space) WHERE space IS NOT NULL',
  ],
  // Version 3 writes `field_hlcs` as '=' when every field carries the record's stamp
  // (storeRows.ts, EVERY_FIELD_AT_RECORD_STAMP). Rows written before keep their JSON and are read
  // as they are: nothing to rewrite, but a build that cannot read '=' must refuse the file.
  [],
];
