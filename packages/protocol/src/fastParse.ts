/**
 * Fast paths for the two responses a sync moves in bulk (`GET /v1/pull`, `POST /v1/push`).
 *
 * Each function accepts exactly what the valibot schema accepts without altering — a value
 * with exactly the schema's keys and valid fields — and returns it unchanged; for anything
 * else it returns `undefined` and the caller runs the valibot schema, which then either
 * accepts (stripping unknown keys, as `v.object` does) or explains what is wrong. Validation
 * is never skipped: bad server data must not reach the store. The checks mirror
 * `schemas.ts` one for one; `fastParse.test.ts` holds the two to the same verdicts.
 */
import { isHlc } from './hlc.js';
import { isFieldName, jsonProblem } from './json.js';
import {
  CHANGE_ID_PATTERN,
  CLIENT_ID_PATTERN,
  ENTITY_TYPE_PATTERN,
  isWellFormedText,
  type PullResponse,
  type PushAckResponse,
  type PushResponse,
  type ServerRecord,
} from './schemas.js';
import { LIMITS } from './version.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: the same check as EntityIdSchema
const ENTITY_ID_PATTERN = /^[^\u0000-\u001f\u007f]+$/;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const PUSH_STATUSES = new Set(['applied', 'duplicate', 'conflict', 'rejected']);

type Plain = Record<string, unknown>;

function isObject(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCounter(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= Number.MAX_SAFE_INTEGER;
}

/** Exactly `count` own keys, all of them among `allowed` (so nothing would be stripped). */
function hasOnlyKeys(value: Plain, count: number, allowed: ReadonlySet<string>): boolean {
  let seen = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key) || !allowed.has(key)) return false;
    seen++;
  }
  return seen === count;
}

/**
 * A pure string check with a memory of the strings it passed. A page repeats the same few
 * field names, client ids and stamps on every record (a record's field stamps are usually its
 * own stamp), so most checks become one lookup instead of a pattern test. The answer is the
 * check's own: only strings that passed are remembered, and at most `limit` of them, so a
 * server sending endless distinct names costs memory no more than this bound.
 */
function remembered(check: (text: string) => boolean, limit: number): (text: string) => boolean {
  const passed = new Set<string>();
  let last = '';
  return (text) => {
    if (text === last || passed.has(text)) return true;
    if (!check(text)) return false;
    if (passed.size < limit) passed.add(text);
    last = text;
    return true;
  };
}

const isKnownFieldName = remembered(isFieldName, 256);
const isKnownClientId = remembered((text) => CLIENT_ID_PATTERN.test(text), 256);
const isKnownEntityType = remembered((text) => ENTITY_TYPE_PATTERN.test(text), 64);
// Stamps are rarely repeated across records: only the last one is remembered (the set stays empty).
const isKnownHlc = remembered(isHlc, 0);

function isVector(value: unknown): boolean {
  if (!isObject(value)) return false;
  const keys = Object.keys(value);
  if (keys.length > 1000) return false;
  for (const key of keys) {
    if (!isKnownClientId(key) || !isCounter(value[key])) return false;
  }
  return true;
}

/**
 * A JSON value as `jsonProblem` accepts it below the top level (`depth` ≥ 1): primitives are
 * answered here, anything nested goes to `jsonProblem` itself.
 */
function isFieldValue(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    default:
      return value === null || jsonProblem(value, LIMITS.maxJsonDepth, 1) === undefined;
  }
}

/** `isFieldName` of every key and `jsonProblem(value, maxJsonDepth) === undefined`, in one pass. */
function isRecordData(value: unknown): boolean {
  if (!isObject(value) || LIMITS.maxJsonDepth < 1) return false;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key of Object.keys(value)) {
    // isFieldName refuses the keys jsonProblem forbids.
    if (!isKnownFieldName(key) || !isFieldValue(value[key])) return false;
  }
  return true;
}

function isFieldHlcs(value: unknown): boolean {
  if (!isObject(value)) return false;
  for (const key of Object.keys(value)) {
    // `v.record` silently drops these keys: leave such input to valibot.
    if (FORBIDDEN_KEYS.has(key)) return false;
    const stamp = value[key];
    if (typeof stamp !== 'string' || !isKnownHlc(stamp)) return false;
  }
  return true;
}

const RECORD_KEYS = new Set([
  'entityType',
  'entityId',
  'data',
  'deleted',
  'version',
  'vector',
  'hlc',
  'fieldHlcs',
  'seq',
  'clientId',
  'changeId',
]);

/** True when `value` is a `ServerRecord` that `ServerRecordSchema` would accept unchanged. */
export function isServerRecord(value: unknown): value is ServerRecord {
  if (!isObject(value) || !hasOnlyKeys(value, RECORD_KEYS.size, RECORD_KEYS)) return false;
  const { entityType, entityId, data, hlc, clientId, changeId } = value;
  return (
    typeof entityType === 'string' &&
    isKnownEntityType(entityType) &&
    typeof entityId === 'string' &&
    entityId.length >= 1 &&
    entityId.length <= 256 &&
    ENTITY_ID_PATTERN.test(entityId) &&
    isWellFormedText(entityId) &&
    (data === null || isRecordData(data)) &&
    typeof value.deleted === 'boolean' &&
    isCounter(value.version) &&
    isVector(value.vector) &&
    typeof hlc === 'string' &&
    isKnownHlc(hlc) &&
    isFieldHlcs(value.fieldHlcs) &&
    isCounter(value.seq) &&
    typeof clientId === 'string' &&
    isKnownClientId(clientId) &&
    typeof changeId === 'string' &&
    CHANGE_ID_PATTERN.test(changeId)
  );
}

const PULL_KEYS = new Set(['changes', 'cursor', 'hasMore', 'serverTime', 'horizon']);

/**
 * The pull response when it passes the fast check, else `undefined` (run `PullResponseSchema`
 * for the verdict and the message).
 */
export function fastPullResponse(value: unknown): PullResponse | undefined {
  if (!isObject(value)) return undefined;
  const withHorizon = Object.hasOwn(value, 'horizon');
  if (!hasOnlyKeys(value, withHorizon ? 5 : 4, PULL_KEYS)) return undefined;
  if (withHorizon && !isCounter(value.horizon)) return undefined;
  const { changes } = value;
  if (!Array.isArray(changes) || !isCounter(value.cursor) || typeof value.hasMore !== 'boolean') return undefined;
  if (!isCounter(value.serverTime)) return undefined;
  for (const record of changes) if (!isServerRecord(record)) return undefined;
  return value as unknown as PullResponse;
}

const PUSH_KEYS = new Set(['results', 'cursor', 'serverTime']);
const RESULT_KEYS = new Set(['changeId', 'status', 'record', 'error']);
const ERROR_KEYS = new Set(['code', 'message', 'retryable']);

function isChangeResult(value: unknown): boolean {
  if (!isObject(value)) return false;
  let count = 2;
  if (Object.hasOwn(value, 'record')) {
    count++;
    if (value.record !== null && !isServerRecord(value.record)) return false;
  }
  if (Object.hasOwn(value, 'error')) {
    count++;
    const error = value.error;
    if (!isObject(error) || !hasOnlyKeys(error, ERROR_KEYS.size, ERROR_KEYS)) return false;
    if (typeof error.code !== 'string' || typeof error.message !== 'string' || typeof error.retryable !== 'boolean') {
      return false;
    }
  }
  const { changeId, status } = value;
  return (
    hasOnlyKeys(value, count, RESULT_KEYS) &&
    typeof changeId === 'string' &&
    CHANGE_ID_PATTERN.test(changeId) &&
    typeof status === 'string' &&
    PUSH_STATUSES.has(status)
  );
}

/**
 * The push response when it passes the fast check, else `undefined` (run `PushResponseSchema`
 * for the verdict and the message).
 */
export function fastPushResponse(value: unknown): PushResponse | undefined {
  if (!isObject(value) || !hasOnlyKeys(value, PUSH_KEYS.size, PUSH_KEYS)) return undefined;
  const { results } = value;
  if (!Array.isArray(results) || !isCounter(value.cursor) || !isCounter(value.serverTime)) return undefined;
  for (const result of results) if (!isChangeResult(result)) return undefined;
  return value as unknown as PushResponse;
}

const COMPACT_KEYS = new Set(['changeId', 'status', 'version', 'seq']);

/** True when `value` is a compact result that `CompactResultSchema` would accept unchanged. */
function isCompactResult(value: unknown): boolean {
  if (!isObject(value) || !hasOnlyKeys(value, COMPACT_KEYS.size, COMPACT_KEYS)) return false;
  const { changeId, status } = value;
  return (
    typeof changeId === 'string' &&
    CHANGE_ID_PATTERN.test(changeId) &&
    (status === 'applied' || status === 'duplicate') &&
    isCounter(value.version) &&
    isCounter(value.seq)
  );
}

/**
 * The answer to a push that asked for compact acknowledgements when it passes the fast check,
 * else `undefined` (run `PushAckResponseSchema`). A compact result costs four key checks where a
 * full one validates a whole record.
 */
export function fastPushAckResponse(value: unknown): PushAckResponse | undefined {
  if (!isObject(value) || !hasOnlyKeys(value, PUSH_KEYS.size, PUSH_KEYS)) return undefined;
  const { results } = value;
  if (!Array.isArray(results) || !isCounter(value.cursor) || !isCounter(value.serverTime)) return undefined;
  for (const result of results) if (!isCompactResult(result) && !isChangeResult(result)) return undefined;
  return value as unknown as PushAckResponse;
}
