/**
 * `GET /v1/pull`'s bulk path on SQLite: a page of records as response JSON, built by SQLite in
 * one statement and handed over as UTF-8 bytes, so no record becomes a JavaScript value on the
 * way (no column strings, no concatenation, no second UTF-8 encoding of the page for the
 * socket). The bytes are exactly those of `JSON.stringify` of the page's records (through
 * `compactRecord` when compact), as {@link pullJsonRows} builds them from the same rows.
 *
 * Why the SQL gives the same text: stored `data`, `vector` and `field_hlcs` are spliced in as
 * stored, as `pullJsonRows` does (they were written by `JSON.stringify`); the five string columns
 * go through `json_quote`, which escapes every character as `JSON.stringify` does (checked for
 * every code point in `sqlitePullJson.test.ts`); integers print alike. The compact check builds
 * the map a client would rebuild from `data`'s keys in `json_each`'s order, which is the text's
 * order and, for text `JSON.stringify` wrote, `Object.keys`' order; a `__proto__` key poisons it
 * with a character stored JSON never holds raw, as `fieldHlcsTextOmittable` refuses that key.
 * Where a key or the stamp needs an escape in the stored map (a backslash in it), the page is
 * built by `pullJsonRows` instead: escaped keys are where JSON readers differ, and such maps are rare.
 */
import { fieldHlcsTextOmittable } from '@ferry/protocol';
import type Database from 'better-sqlite3';
import type { PullJsonPage, PullOptions } from './ServerStorage.js';
import { RECORD_COLUMNS } from './sqliteStatements.js';

/** What {@link pullJsonPage} takes: {@link PullOptions} without `snapshot`, and compact records. */
export type PullJsonOptions = Omit<PullOptions, 'snapshot'> & { compact?: boolean };

type Statement<P extends unknown[]> = Database.Statement<P, unknown[]>;

/** The page statements, prepared once per database. */
export interface PullJsonStatements {
  /** [scope, cursor, limit] → one row: [records' JSON as bytes or null, count, last seq, maps needing escapes]. */
  page: Statement<[string, number, number]>;
  compactPage: Statement<[string, number, number]>;
  typesPage: Statement<[string, number, string, number]>;
  typesCompactPage: Statement<[string, number, string, number]>;
  /** Whether a record follows seq: [scope, seq] / [scope, seq, types]. */
  more: Statement<[string, number]>;
  typesMore: Statement<[string, number, string]>;
  /** The page's rows (and one more, for `hasMore`) as columns, for {@link pullJsonRows}. */
  rows: Statement<[string, number, number]>;
  typesRows: Statement<[string, number, string, number]>;
}

const TYPES = 'AND entity_type IN (SELECT value FROM json_each(?))';

/** `fieldHlcs` and the comma before it, or nothing when the client can rebuild the map. */
const COMPACT_STAMPS = `iif(
  substr(r.data, 1, 1) = '{' AND r.field_hlcs = (
    SELECT '{' || coalesce(group_concat(
      iif(key = '__proto__', char(1), json_quote(key)) || ':' || json_quote(r.hlc), ','), '') || '}'
    FROM json_each(r.data)),
  '', ',"fieldHlcs":' || r.field_hlcs)`;

/** One record's JSON, keys in `ServerRecord`'s order (as `toRecord` builds it). */
function recordJson(compact: boolean): string {
  return `'{"entityType":' || json_quote(r.entity_type) || ',"entityId":' || json_quote(r.entity_id) ||
    ',"data":' || coalesce(r.data, 'null') || ',"deleted":' || iif(r.deleted = 1, 'true', 'false') ||
    ',"version":' || r.version || ',"vector":' || r.vector || ',"hlc":' || json_quote(r.hlc) ||
    ${compact ? COMPACT_STAMPS : `',"fieldHlcs":' || r.field_hlcs`} ||
    ',"seq":' || r.seq || ',"clientId":' || json_quote(r.client_id) || ',"changeId":' || json_quote(r.change_id) || '}'`;
}

function pageSql(compact: boolean, types: boolean): string {
  // The LIMIT stays `+?` (see sqliteStatements.ts): a bound value the plan does not depend on.
  return `SELECT CAST(group_concat(${recordJson(compact)}, ',' ORDER BY r.seq) AS BLOB),
      count(*), max(r.seq), coalesce(sum(instr(r.field_hlcs, '\\') > 0), 0)
    FROM (SELECT * FROM records WHERE scope = ? AND seq > ? ${types ? TYPES : ''} ORDER BY seq LIMIT +?) AS r`;
}

/** Prepares the statements of {@link pullJsonPage} on `db`. */
export function preparePullJson(db: Database.Database): PullJsonStatements {
  const raw = <P extends unknown[]>(sql: string) => db.prepare<P, unknown[]>(sql).raw(true);
  return {
    page: raw(pageSql(false, false)),
    compactPage: raw(pageSql(true, false)),
    typesPage: raw(pageSql(false, true)),
    typesCompactPage: raw(pageSql(true, true)),
    more: raw('SELECT 1 FROM records WHERE scope = ? AND seq > ? LIMIT 1'),
    typesMore: raw(`SELECT 1 FROM records WHERE scope = ? AND seq > ? ${TYPES} LIMIT 1`),
    rows: raw(`SELECT ${RECORD_COLUMNS} FROM records WHERE scope = ? AND seq > ? ORDER BY seq LIMIT +?`),
    typesRows: raw(`SELECT ${RECORD_COLUMNS} FROM records WHERE scope = ? AND seq > ? ${TYPES} ORDER BY seq LIMIT +?`),
  };
}

/**
 * One page of records after `cursor`, in seq order, as comma-separated JSON objects (UTF-8): the
 * rows and text of {@link pullJsonRows}, built by SQLite. The caller checks the horizon.
 */
export function pullJsonPage(statements: PullJsonStatements, scope: string, options: PullJsonOptions): PullJsonPage {
  const { cursor, limit, types, compact = false } = options;
  const typeList = types === undefined ? undefined : JSON.stringify(types);
  const row =
    typeList === undefined
      ? (compact ? statements.compactPage : statements.page).get(scope, cursor, limit)
      : (compact ? statements.typesCompactPage : statements.typesPage).get(scope, cursor, typeList, limit);
  const [json, count, lastSeq, escapedMaps] = row as [Buffer | null, number, number | null, number];
  if (compact && escapedMaps > 0) return pullJsonRows(statements, scope, options);
  if (count === 0 || json === null || lastSeq === null) {
    return { records: Buffer.alloc(0), count: 0, lastSeq: undefined, hasMore: false };
  }
  const more =
    count === limit &&
    (typeList === undefined
      ? statements.more.get(scope, lastSeq)
      : statements.typesMore.get(scope, lastSeq, typeList)) !== undefined;
  return { records: json, count, lastSeq, hasMore: more };
}

/**
 * {@link pullJsonPage} built in JavaScript from the rows' columns: each record's JSON assembled
 * from its stored columns, the JSON columns spliced in as stored. The general form of the text,
 * used for a page whose stamps need escapes and as the reference the SQL is tested against.
 */
export function pullJsonRows(statements: PullJsonStatements, scope: string, options: PullJsonOptions): PullJsonPage {
  const { cursor, limit, types, compact = false } = options;
  const rows =
    types === undefined
      ? statements.rows.all(scope, cursor, limit + 1)
      : statements.typesRows.all(scope, cursor, JSON.stringify(types), limit + 1);
  const hasMore = rows.length > limit;
  const count = hasMore ? limit : rows.length;
  const parts: string[] = new Array(count);
  let lastSeq: number | undefined;
  for (let index = 0; index < count; index++) {
    const [type, id, data, deleted, version, vector, hlc, fieldHlcs, seq, clientId, changeId] = rows[index] as [
      string,
      string,
      string | null,
      number,
      number,
      string,
      string,
      string,
      number,
      string,
      string,
    ];
    lastSeq = seq;
    const stamps = compact && fieldHlcsTextOmittable(data, fieldHlcs, hlc) ? '' : `"fieldHlcs":${fieldHlcs},`;
    parts[index] =
      `{"entityType":${JSON.stringify(type)},"entityId":${JSON.stringify(id)},"data":${data ?? 'null'},` +
      `"deleted":${deleted === 1},"version":${version},"vector":${vector},"hlc":${JSON.stringify(hlc)},` +
      `${stamps}"seq":${seq},"clientId":${JSON.stringify(clientId)},"changeId":${JSON.stringify(changeId)}}`;
  }
  return { records: Buffer.from(parts.join(','), 'utf8'), count, lastSeq, hasMore };
}
