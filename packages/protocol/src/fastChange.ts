/**
 * The fast path of the request the server validates most: one pushed change.
 *
 * {@link fastChange} accepts only a change that `ChangeSchema` accepts, and returns what
 * `ChangeSchema` would output (the same keys in the same order, the same values). For
 * anything else it returns `undefined` and the caller runs `ChangeSchema`, which either
 * accepts or explains what is wrong, so every refusal keeps valibot's message. It may send
 * valid input to valibot (that costs time, never a verdict), never the other way round. The
 * checks mirror `schemas.ts` one for one; `fastChange.test.ts` holds the two to the same
 * verdicts and outputs on hostile and random input.
 */
import { isHlc } from './hlc.js';
import { isFieldName } from './json.js';
import { CHANGE_ID_PATTERN, type Change, CLIENT_ID_PATTERN, ENTITY_TYPE_PATTERN, isWellFormedText } from './schemas.js';
import { isReservedType, isSpaceId } from './spaces.js';
import { LIMITS } from './version.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: the same check as EntityIdSchema
const ENTITY_ID_PATTERN = /^[^\u0000-\u001f\u007f]+$/;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const OPERATIONS = new Set(['CREATE', 'UPDATE', 'DELETE']);
const REQUIRED_KEYS = 10;
const CHANGE_KEYS = new Set([
  'id',
  'entityType',
  'entityId',
  'operation',
  'data',
  'timestamp',
  'hlc',
  'version',
  'vector',
  'clientId',
  'fieldHlcs',
  'space',
]);

type Plain = Record<string, unknown>;

/** An object literal or JSON.parse output: what `ChangeSchema`'s plain-object checks pass. */
function isPlainObject(value: unknown): value is Plain {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.getPrototypeOf(value) === Object.prototype;
}

function isCounter(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= Number.MAX_SAFE_INTEGER;
}

/** A string every storage keeps exactly (`ChangeDataSchema`'s rule for keys and values). */
function isStorableText(text: string): boolean {
  return isWellFormedText(text) && !text.includes('\u0000');
}

/**
 * Plain, finite, storable JSON no deeper than `LIMITS.maxJsonDepth` (what `jsonProblem` and
 * `ChangeDataSchema`'s string rule pass together), walked once.
 */
function isStorableJson(value: unknown, depth: number): boolean {
  if (value === null || typeof value === 'boolean') return true;
  if (typeof value === 'string') return isStorableText(value);
  if (typeof value === 'number') return Number.isFinite(value);
  if (depth >= LIMITS.maxJsonDepth) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (!isStorableJson(item, depth + 1)) return false;
    return true;
  }
  if (!isPlainObject(value)) return false;
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key) || !isStorableText(key) || !isStorableJson(value[key], depth + 1)) return false;
  }
  return true;
}

function isChangeData(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  for (const key of Object.keys(value)) if (!isFieldName(key)) return false;
  return isStorableJson(value, 0);
}

function isVector(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  const keys = Object.keys(value);
  if (keys.length > 1000) return false;
  for (const key of keys) if (!CLIENT_ID_PATTERN.test(key) || !isCounter(value[key])) return false;
  return true;
}

function isFieldHlcs(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  for (const key of Object.keys(value)) {
    const stamp = value[key];
    // isFieldName refuses the keys `v.record` would drop, so nothing is silently lost.
    if (!isFieldName(key) || typeof stamp !== 'string' || !isHlc(stamp)) return false;
  }
  return true;
}

/**
 * `value` as `ChangeSchema` would output it, when it is a change `ChangeSchema` accepts and
 * this check can tell; otherwise `undefined` (run `ChangeSchema` for the verdict and message).
 *
 * @example
 * const change = fastChange(raw) ?? v.parse(ChangeSchema, raw);
 */
export function fastChange(value: unknown): Change | undefined {
  if (!isPlainObject(value)) return undefined;
  let keys = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key) || !CHANGE_KEYS.has(key)) return undefined;
    keys++;
  }
  const { id, entityType, entityId, operation, data, timestamp, hlc, version, vector, clientId, fieldHlcs, space } =
    value;
  const optional = (fieldHlcs === undefined ? 0 : 1) + (space === undefined ? 0 : 1);
  if (keys !== REQUIRED_KEYS + optional) return undefined;
  const valid =
    typeof id === 'string' &&
    CHANGE_ID_PATTERN.test(id) &&
    typeof entityType === 'string' &&
    (ENTITY_TYPE_PATTERN.test(entityType) || isReservedType(entityType)) &&
    typeof entityId === 'string' &&
    entityId.length >= 1 &&
    entityId.length <= 256 &&
    ENTITY_ID_PATTERN.test(entityId) &&
    isWellFormedText(entityId) &&
    typeof operation === 'string' &&
    OPERATIONS.has(operation) &&
    (operation === 'DELETE' ? data === null : isChangeData(data)) &&
    isCounter(timestamp) &&
    typeof hlc === 'string' &&
    isHlc(hlc) &&
    isCounter(version) &&
    version >= 1 &&
    isVector(vector) &&
    typeof clientId === 'string' &&
    CLIENT_ID_PATTERN.test(clientId) &&
    (fieldHlcs === undefined || isFieldHlcs(fieldHlcs)) &&
    (space === undefined || isSpaceId(space));
  if (!valid) return undefined;
  // ChangeSchema's output: its keys in its order, the optional ones only when sent.
  const change: Plain = { id, entityType, entityId, operation, data, timestamp, hlc, version, vector, clientId };
  if (fieldHlcs !== undefined) change.fieldHlcs = fieldHlcs;
  if (space !== undefined) change.space = space;
  return change as Change;
}
