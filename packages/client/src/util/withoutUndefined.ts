/**
 * The object without its `undefined` properties, so `{ ...defaults, ...withoutUndefined(options) }`
 * keeps a default the caller passed as `undefined` (an optional field spread from elsewhere).
 */
export function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
