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
