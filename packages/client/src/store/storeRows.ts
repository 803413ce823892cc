import type { Change, RecordData } from '@ferry/protocol';
import type { SqlRow, SqlValue } from './SqlDriver.js';
import type { LocalEntity, OutboxEntry } from './types.js';

// The statements StoreTx runs on the hot paths, and the row shapes they read: columns and row
// converters stay together so a new column is added in one place.

export const ENTITY_COLUMNS =
  'entity_type, entity_id, data, deleted, version, vector, hlc, field_hlcs, server_version, space';
export const OUTBOX_COLUMNS =
  'seq, change_id, entity_type, entity_id, operation, data, timestamp, hlc, version, vector, client_id, field_hlcs, held, attempts, last_error, space';

// Statement texts built once: drivers cache prepared statements by text, and a per-call
// template string would be rebuilt and rehashed on every row of a pulled page.
export const SELECT_ENTITY = `SELECT ${ENTITY_COLUMNS} FROM ferry_entities WHERE entity_type = ? AND entity_id = ?`;
// A record never changes space (moving is a delete in one and a create in the other), so a
// write that does not name the space keeps the one the row has.
export const UPSERT_ENTITY = `INSERT INTO ferry_entities (${ENTITY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (entity_type, entity_id) DO UPDATE SET data = excluded.data, deleted = excluded.deleted,
         version = excluded.version, vector = excluded.vector, hlc = excluded.hlc,
         field_hlcs = excluded.field_hlcs, server_version = excluded.server_version,
         space = coalesce(excluded.space, ferry_entities.space)`;
export const SELECT_PENDING_FOR = `SELECT ${OUTBOX_COLUMNS} FROM ferry_outbox WHERE entity_type = ? AND entity_id = ? ORDER BY seq`;
// A page's keys travel as one JSON array of [type, id] pairs; CROSS JOIN keeps json_each as the
// outer loop, so each key is one primary-key (or index) probe.
export const SELECT_ENTITIES_IN = `SELECT ${ENTITY_COLUMNS} FROM json_each(?) AS k CROSS JOIN ferry_entities
       WHERE entity_type = json_extract(k.value, '$[0]') AND entity_id = json_extract(k.value, '$[1]')`;
// The ids one type holds between two ids, read from the primary key's index alone. With a
// LIMIT of RANGE_PROBE_LIMIT + 1 it tells whether the range holds at most RANGE_PROBE_LIMIT rows.
export const RANGE_PROBE_LIMIT = 64;
export const SELECT_IDS_IN_RANGE = `SELECT entity_id FROM ferry_entities
       WHERE entity_type = ? AND entity_id >= ? AND entity_id <= ? LIMIT ${RANGE_PROBE_LIMIT + 1}`;
export const SELECT_PENDING_IN = `SELECT ${OUTBOX_COLUMNS} FROM json_each(?) AS k CROSS JOIN ferry_outbox
       WHERE entity_type = json_extract(k.value, '$[0]') AND entity_id = json_extract(k.value, '$[1]') ORDER BY seq`;
export const SELECT_PENDING_AFTER = `SELECT ${OUTBOX_COLUMNS} FROM ferry_outbox WHERE held = 0 AND seq > ? ORDER BY seq LIMIT ?`;
// The push reads its batch as the wire JSON of each change, built by SQLite from the stored
// texts: `data`, `vector` and `field_hlcs` are already the JSON the change was queued with, so
// they are copied, never parsed and serialised again. Keys, order and optional keys are those of
// `JSON.stringify(stripOutbox(outboxFromRow(row)))`, and json_quote escapes as JSON.stringify
// does (`pushBody.test.ts` holds the two to the same text).
export const SELECT_PUSHABLE_AFTER = `SELECT seq, printf('{"id":%s,"entityType":%s,"entityId":%s,"operation":%s,"data":%s,"timestamp":%s,"hlc":%s,"version":%s,"vector":%s,"clientId":%s%s%s}',
         json_quote(change_id), json_quote(entity_type), json_quote(entity_id), json_quote(operation), coalesce(data, 'null'),
         timestamp, json_quote(hlc), version, vector, json_quote(client_id),
         CASE WHEN field_hlcs IS NULL OR field_hlcs = 'null' THEN '' ELSE ',"fieldHlcs":' || field_hlcs END,
         CASE WHEN space IS NULL OR space = '' THEN '' ELSE ',"space":' || json_quote(space) END) AS change
       FROM ferry_outbox WHERE held = 0 AND seq > ? ORDER BY seq LIMIT ?`;
// Rows per multi-row INSERT of known-absent entities, largest first: a page is cut into chunks
// of these sizes, so a handful of statement texts (each prepared once) serve any page, and a
// chunk binds at most 640 parameters (old SQLite builds allow 999).
export const INSERT_CHUNKS = [64, 16, 4, 1] as const;
export const INSERT_ENTITIES: ReadonlyMap<number, string> = new Map(
  INSERT_CHUNKS.map((rows) => [
    rows,
    `INSERT INTO ferry_entities (${ENTITY_COLUMNS}) VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
  ]),
);
export const SET_SERVER_VERSION =
  'UPDATE ferry_entities SET version = ?, server_version = ? WHERE entity_type = ? AND entity_id = ?';
// A push batch's acknowledgements of changes whose entity the device still holds exactly as the
// change left it, in one statement: each [change id, server version, field stamps JSON] finds its
// outbox row (the change as queued) and its entity, and the entity's version is recorded only
// when its state is, text for text, the acknowledged one (stamp, tombstone flag, data, vector,
// field stamps as `fieldHlcsColumn` writes them) and the version is news: what settling each one
// alone does. A row that says the same in other text (written by an older build) is settled alone.
export const SET_SERVER_VERSIONS_AS_SENT = `UPDATE ferry_entities AS e SET version = max(e.version, a.v), server_version = a.v
       FROM (SELECT o.entity_type AS t, o.entity_id AS i, o.operation AS op, o.data AS d, o.vector AS vec, o.hlc AS h,
               json_extract(k.value, '$[1]') AS v, json_extract(k.value, '$[2]') AS fh
             FROM json_each(?) AS k JOIN ferry_outbox AS o ON o.change_id = json_extract(k.value, '$[0]')) AS a
       WHERE e.entity_type = a.t AND e.entity_id = a.i AND e.hlc = a.h AND e.vector = a.vec
         AND e.deleted = (a.op = 'DELETE') AND e.data IS (CASE WHEN a.op = 'DELETE' THEN NULL ELSE a.d END)
         AND e.field_hlcs = a.fh AND (a.v > e.version OR a.v <> e.server_version)`;
export const DELETE_CHANGES_IN = 'DELETE FROM ferry_outbox WHERE change_id IN (SELECT value FROM json_each(?))';

/**
 * `field_hlcs` of a record whose fields all carry the record's own stamp, in the order of its
 * data's fields (a created record, a whole record pulled or acknowledged: nearly every row), in
 * place of `{"field":"stamp",…}`. It saves about a third of such a row's bytes, and a
 * `JSON.stringify` per write and a `JSON.parse` per read. Not JSON, so never mistaken for a
 * stored map; a store holding it has schema version 3, which older builds refuse to open.
 */
export const EVERY_FIELD_AT_RECORD_STAMP = '=';

/** The `field_hlcs` column of an entity: {@link EVERY_FIELD_AT_RECORD_STAMP} when it says all. */
export function fieldHlcsColumn(entity: Pick<LocalEntity, 'data' | 'fieldHlcs' | 'hlc'>): string {
  const { data, fieldHlcs, hlc } = entity;
  if (data !== null) {
    const fields = Object.keys(data);
    const stamped = Object.keys(fieldHlcs);
    if (fields.length === stamped.length) {
      let same = true;
      for (let index = 0; same && index < fields.length; index++) {
        const field = fields[index] as string;
        // '__proto__' could not be rebuilt by assignment (see everyFieldAt).
        same = field === stamped[index] && fieldHlcs[field] === hlc && field !== '__proto__';
      }
      if (same) return EVERY_FIELD_AT_RECORD_STAMP;
    }
  }
  return JSON.stringify(fieldHlcs);
}

/** The field stamps {@link EVERY_FIELD_AT_RECORD_STAMP} stands for: every field of `data` at `hlc`. */
function everyFieldAt(data: RecordData | null, hlc: string): Record<string, string> {
  const fieldHlcs: Record<string, string> = {};
  if (data !== null) for (const field of Object.keys(data)) fieldHlcs[field] = hlc;
  return fieldHlcs;
}

/** An entity's values in {@link ENTITY_COLUMNS} order. */
export function entityParams(entity: LocalEntity): SqlValue[] {
  return [
    entity.entityType,
    entity.entityId,
    entity.data === null ? null : JSON.stringify(entity.data),
    entity.deleted ? 1 : 0,
    entity.version,
    JSON.stringify(entity.vector),
    entity.hlc,
    fieldHlcsColumn(entity),
    entity.serverVersion,
    entity.space ?? null,
  ];
}

/** An entity as stored, from its row. */
export function entityFromRow(row: SqlRow): LocalEntity {
  const data = row.data === null ? null : (JSON.parse(String(row.data)) as RecordData);
  const hlc = String(row.hlc);
  return {
    entityType: String(row.entity_type),
    entityId: String(row.entity_id),
    data,
    deleted: row.deleted === 1,
    version: Number(row.version),
    vector: JSON.parse(String(row.vector)),
    hlc,
    fieldHlcs:
      row.field_hlcs === EVERY_FIELD_AT_RECORD_STAMP ? everyFieldAt(data, hlc) : JSON.parse(String(row.field_hlcs)),
    serverVersion: Number(row.server_version),
    ...(row.space === null || row.space === undefined ? {} : { space: String(row.space) }),
  };
}

/** An outbox entry, from its row. */
export function outboxFromRow(row: SqlRow): OutboxEntry {
  const entry: OutboxEntry = {
    seq: Number(row.seq),
    id: String(row.change_id),
    entityType: String(row.entity_type),
    entityId: String(row.entity_id),
    operation: String(row.operation) as Change['operation'],
    data: row.data === null ? null : (JSON.parse(String(row.data)) as RecordData),
    timestamp: Number(row.timestamp),
    hlc: String(row.hlc),
    version: Number(row.version),
    vector: JSON.parse(String(row.vector)),
    clientId: String(row.client_id),
    held: row.held === 1,
    attempts: Number(row.attempts),
    lastError: row.last_error === null ? null : String(row.last_error),
  };
  if (row.field_hlcs !== null) entry.fieldHlcs = JSON.parse(String(row.field_hlcs));
  if (row.space !== null && row.space !== undefined) entry.space = String(row.space);
  return entry;
}

/** The wire change of an outbox entry (without local bookkeeping). */
export function stripOutbox(entry: Change | OutboxEntry): Change {
  const change: Change = {
    id: entry.id,
    entityType: entry.entityType,
    entityId: entry.entityId,
    operation: entry.operation,
    data: entry.data,
    timestamp: entry.timestamp,
    hlc: entry.hlc,
    version: entry.version,
    vector: entry.vector,
    clientId: entry.clientId,
  };
  if (entry.fieldHlcs) change.fieldHlcs = entry.fieldHlcs;
  if (entry.space) change.space = entry.space;
  return change;
}
