/**
 * Compact pulled records (`GET /v1/pull` with the request header `ferry-records: compact`,
 * docs/protocol.md).
 *
 * Nearly every record a pull moves was written whole by one change: each field of its data
 * carries the record's own stamp, and `fieldHlcs` repeats that stamp once per field, about a
 * third of the record's JSON. A client that asks for compact records gets such a record without
 * `fieldHlcs` and rebuilds the map with {@link expandCompactRecords}: each field of `data`, in
 * `data`'s order, at `hlc`. The server leaves the map out only when {@link omitsFieldHlcs} (or,
 * on stored text, {@link fieldHlcsTextOmittable}) holds, i.e. when the rebuilt map equals the
 * one it holds, keys in the same order, so the engine cannot tell the two forms apart. A server
 * that predates the header ignores it and sends every record whole; a client that does not ask
 * never gets a compact record.
 */
import type { ServerRecord } from './schemas.js';

/** Request header with which a client asks for compact records. */
export const RECORDS_HEADER = 'ferry-records';
/** The value of {@link RECORDS_HEADER} that asks for compact records (any other value: whole records). */
export const COMPACT_RECORDS = 'compact';

/** A server record as a compact pull may send it: `fieldHlcs` left out when it says nothing more. */
export type CompactServerRecord = Omit<ServerRecord, 'fieldHlcs'> & { fieldHlcs?: ServerRecord['fieldHlcs'] };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * True when `fieldHlcs` is exactly every field of `data`, in `data`'s order, at `hlc`: what
 * {@link expandCompactRecords} rebuilds. Never for a tombstone, nor for a field named
 * `__proto__` (which an assignment could not rebuild).
 */
export function omitsFieldHlcs(record: Pick<ServerRecord, 'data' | 'fieldHlcs' | 'hlc'>): boolean {
  const { data, fieldHlcs, hlc } = record;
  if (!isPlainObject(data)) return false;
  const fields = Object.keys(data);
  const stamped = Object.keys(fieldHlcs);
  if (fields.length !== stamped.length) return false;
  for (let index = 0; index < fields.length; index++) {
    const field = fields[index] as string;
    if (field !== stamped[index] || fieldHlcs[field] !== hlc || field === '__proto__') return false;
  }
  return true;
}

/**
 * {@link omitsFieldHlcs} on stored JSON text (`data` and `fieldHlcs` as `JSON.stringify` wrote
 * them), for a server that sends stored records without parsing them: the map's text must be
 * exactly the one the rebuilt map serialises to. Parses `data` only, for its keys (about 1 µs
 * for a small record; a hand-written scan of the text measured no faster).
 */
export function fieldHlcsTextOmittable(dataText: string | null, fieldHlcsText: string, hlc: string): boolean {
  if (dataText === null) return false;
  let data: unknown;
  try {
    data = JSON.parse(dataText);
  } catch {
    return false;
  }
  if (!isPlainObject(data)) return false;
  const stamp = `:${JSON.stringify(hlc)}`;
  let expected = '{';
  for (const field of Object.keys(data)) {
    if (field === '__proto__') return false;
    expected += `${expected.length > 1 ? ',' : ''}${JSON.stringify(field)}${stamp}`;
  }
  return `${expected}}` === fieldHlcsText;
}

/** The server's side: `record` without `fieldHlcs` when the client can rebuild it, else as it is. */
export function compactRecord(record: ServerRecord): CompactServerRecord {
  if (!omitsFieldHlcs(record)) return record;
  const { fieldHlcs: _rebuilt, ...rest } = record;
  return rest;
}

/**
 * The client's side, before validation: every record of `changes` (a parsed pull page's
 * `changes`, not yet validated) without `fieldHlcs` but with a data object and a string `hlc`
 * gets the map back (each field of `data` at `hlc`), in place, rebuilt as a record of exactly
 * a ServerRecord's keys in the schema's order: what the schema's own output of the whole record
 * would be (`v.object` drops unknown keys too). Validation then judges the rebuilt record (a
 * missing key is `undefined` there, and refused); anything else is left for it as it is.
 */
export function expandCompactRecords(changes: unknown): void {
  if (!Array.isArray(changes)) return;
  for (let index = 0; index < changes.length; index++) {
    const record: unknown = changes[index];
    if (!isPlainObject(record) || Object.hasOwn(record, 'fieldHlcs')) continue;
    const { data, hlc } = record;
    if (!isPlainObject(data) || typeof hlc !== 'string') continue;
    const fieldHlcs: Record<string, string> = {};
    let rebuildable = true;
    for (const field of Object.keys(data)) {
      if (field === '__proto__') rebuildable = false;
      else fieldHlcs[field] = hlc;
    }
    if (!rebuildable) continue;
    changes[index] = {
      entityType: record.entityType,
      entityId: record.entityId,
      data,
      deleted: record.deleted,
      version: record.version,
      vector: record.vector,
      hlc,
      fieldHlcs,
      seq: record.seq,
      clientId: record.clientId,
      changeId: record.changeId,
    };
  }
}
