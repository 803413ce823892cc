import type { JsonValue } from '../json.js';

/**
 * JSON with object keys sorted at every level, so equal values give equal strings whatever
 * order their keys were written in. Used to compare values and to break ties by content,
 * which any two replicas agree on.
 */
export function canonicalJson(value: JsonValue | undefined): string {
  if (value === undefined) return 'undefined';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(',')}}`;
}

/** Orders two JSON values by their {@link canonicalJson}: the content tie-break every replica agrees on. */
export function compareCanonical(a: JsonValue | undefined, b: JsonValue | undefined): number {
  const aJson = canonicalJson(a);
  const bJson = canonicalJson(b);
  return aJson < bJson ? -1 : aJson > bJson ? 1 : 0;
}

/**
 * Deep equality of two JSON values, key order aside: what {@link canonicalJson} would say
 * (`canonicalJson(a) === canonicalJson(b)`), without building the strings. The one equality
 * conflict decisions use.
 *
 * @example
 * jsonEqual({ a: 1, b: [2] }, { b: [2], a: 1 }); // true
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  for (const key of aKeys) {
    if (!Object.hasOwn(b, key)) return false;
    if (!jsonEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}
