/**
 * Parses an HTTP `Retry-After` value into milliseconds from `now`.
 *
 * The header is either delay-seconds (`"120"`) or an HTTP-date
 * (`"Wed, 21 Oct 2015 07:28:00 GMT"`). A date in the past means "now" (0). Anything else,
 * including negative or non-numeric seconds, is `undefined`: a broken header must not make us
 * wait forever, nor hammer the server with no wait at all; the caller falls back to backoff.
 *
 * @example
 * parseRetryAfter('120', Date.now()); // 120_000
 * parseRetryAfter(new Date(now + 5000).toUTCString(), now); // 5000 (to the second)
 */
export function parseRetryAfter(value: string | number | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  // Date.parse also accepts bare numbers and ISO strings; only letters-and-commas dates get here
  // after the seconds check, and a header like "-5" must not parse as a year.
  if (!/[A-Za-z]/.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
