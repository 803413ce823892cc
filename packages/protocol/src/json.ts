/** A JSON value as Ferry stores it: no `undefined`, no NaN/Infinity, no prototype keys. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A record's data: a JSON object keyed by field name. */
export type RecordData = { [field: string]: JsonValue };

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Field names a record may have; they may reach a JSON path in SQL, so they are kept plain. */
export const FIELD_NAME_PATTERN = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/;

/** True when `name` may be used as a field name. */
export function isFieldName(name: string): boolean {
  return FIELD_NAME_PATTERN.test(name) && !FORBIDDEN_KEYS.has(name);
}

/**
 * Checks that `value` is plain JSON no deeper than `maxDepth`, with safe keys at every level.
 * Returns a reason when it is not, `undefined` when it is.
 */
export function jsonProblem(value: unknown, maxDepth: number, depth = 0): string | undefined {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : 'numbers must be finite';
  if (depth >= maxDepth) return `nesting deeper than ${maxDepth} levels`;
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = jsonProblem(item, maxDepth, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return 'only plain objects are allowed';
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) return `key "${key}" is not allowed`;
      const problem = jsonProblem((value as Record<string, unknown>)[key], maxDepth, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  return `${typeof value} is not a JSON value`;
}
