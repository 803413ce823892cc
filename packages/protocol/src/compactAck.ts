/**
 * Compact push acknowledgements (`POST /v1/push?ack=compact`, docs/protocol.md).
 *
 * Nearly every pushed change is acknowledged with a record that is exactly what the change
 * carried: its data, vector and stamp, field stamps that are the change's own, at a new
 * `version` and `seq`. Sending that record back costs the server a serialisation and the client
 * a parse and a validation of data it already holds. A client that asks for compact answers
 * gets, for such a change, `{ changeId, status, version, seq }`, and rebuilds the record with
 * {@link recordFromChange}. The server answers compactly only when {@link isRecordOfChange}
 * holds, i.e. when the rebuilt record equals the full one: same values, same key order (the
 * client stores the JSON of both), so the engine cannot tell the two forms apart.
 */
import type { Change, ChangeResult, CompactResult, PushAckResponse, PushResponse, ServerRecord } from './schemas.js';

/** The field stamp a record written by `change` gives `field` when the stamps are the change's own. */
function ownStamp(change: Change, field: string): string {
  const own = change.fieldHlcs;
  return (own && Object.hasOwn(own, field) ? own[field] : undefined) ?? change.hlc;
}

/** The field stamps a record written by `change` has when they are the change's own: one per field of its data. */
function fieldStampsOf(change: Change): Record<string, string> {
  const stamps: Record<string, string> = {};
  if (change.operation === 'DELETE' || change.data === null) return stamps;
  for (const field of Object.keys(change.data)) {
    // Assigning '__proto__' would set the prototype instead of adding the field.
    if (field === '__proto__') {
      Object.defineProperty(stamps, field, {
        value: ownStamp(change, field),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else stamps[field] = ownStamp(change, field);
  }
  return stamps;
}

/**
 * The server record a compact acknowledgement stands for: `change` as the entity's state, at
 * the server's `version` and `seq`. Its `data` and `vector` are the change's own objects.
 */
export function recordFromChange(change: Change, version: number, seq: number): ServerRecord {
  const deleted = change.operation === 'DELETE';
  return {
    entityType: change.entityType,
    entityId: change.entityId,
    data: deleted ? null : change.data,
    deleted,
    version,
    vector: change.vector,
    hlc: change.hlc,
    fieldHlcs: fieldStampsOf(change),
    seq,
    clientId: change.clientId,
    changeId: change.id,
  };
}

/** Same own keys in the same order, each value the same (`Object.is`: nested values must be the very same). */
function sameEntries(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = Object.keys(a);
  const others = Object.keys(b);
  if (keys.length !== others.length) return false;
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index] as string;
    if (key !== others[index] || !Object.is(a[key], b[key])) return false;
  }
  return true;
}

/**
 * True when `record` is exactly {@link recordFromChange}`(change, record.version, record.seq)`,
 * so a compact answer loses nothing. Conservative: nested data values must be the very objects
 * of the change (as a record written from it holds them), so a record read back from storage
 * with nested values answers in full. Runs once per pushed change on the server, so it
 * compares in place, building nothing.
 */
export function isRecordOfChange(record: ServerRecord, change: Change): boolean {
  const deleted = change.operation === 'DELETE';
  if (
    record.changeId !== change.id ||
    record.hlc !== change.hlc ||
    record.entityId !== change.entityId ||
    record.entityType !== change.entityType ||
    record.clientId !== change.clientId ||
    record.deleted !== deleted ||
    !sameEntries(record.vector, change.vector)
  ) {
    return false;
  }
  const stamps = record.fieldHlcs;
  const stamped = Object.keys(stamps);
  if (deleted) return record.data === null && stamped.length === 0;
  const { data } = change;
  const recordData = record.data;
  if (data === null || recordData === null) return false;
  const fields = Object.keys(data);
  const recordFields = Object.keys(recordData);
  if (recordFields.length !== fields.length || stamped.length !== fields.length) return false;
  for (let index = 0; index < fields.length; index++) {
    const field = fields[index] as string;
    if (recordFields[index] !== field || stamped[index] !== field) return false;
    if (!Object.is(recordData[field], data[field]) || stamps[field] !== ownStamp(change, field)) return false;
  }
  return true;
}

/**
 * The server's side: `result` for `change` in compact form when its record is the change's
 * own (applied or duplicate), else `result` as it is.
 */
export function compactResult(result: ChangeResult, change: Change | undefined): ChangeResult | CompactResult {
  const { record } = result;
  if (
    change === undefined ||
    record == null ||
    result.error !== undefined ||
    (result.status !== 'applied' && result.status !== 'duplicate') ||
    !isRecordOfChange(record, change)
  ) {
    return result;
  }
  return { changeId: result.changeId, status: result.status, version: record.version, seq: record.seq };
}

/**
 * The client's side: the full response a compact one stands for, given the changes the push
 * carried (results answer them in order). Returns a problem to report when a compact result
 * does not answer the change at its position, so no record can be rebuilt.
 */
export function expandPushResponse(
  changes: readonly Change[],
  response: PushAckResponse,
): { response: PushResponse } | { problem: string } {
  const results: ChangeResult[] = new Array(response.results.length);
  for (let index = 0; index < response.results.length; index++) {
    const result = response.results[index] as ChangeResult | CompactResult;
    if (!('version' in result)) {
      results[index] = result;
      continue;
    }
    const change = changes[index];
    if (change === undefined || change.id !== result.changeId) {
      return {
        problem: `results.${index} is a compact acknowledgement of ${result.changeId}, but the push carried ${change ? change.id : 'no change'} there`,
      };
    }
    results[index] = {
      changeId: result.changeId,
      status: result.status,
      record: recordFromChange(change, result.version, result.seq),
    };
  }
  return { response: { results, cursor: response.cursor, serverTime: response.serverTime } };
}
