import type { RateLimitOptions } from '../rateLimit/createRateLimiter.js';

/**
 * Per-user allowances of `ferry serve`: far above what a syncing device sends (it pushes after
 * a debounce and pulls on a poke), low enough to stop a runaway loop or a scripted flood.
 * `createServer` alone has no limits; the CLI is the deployment, so it turns them on.
 */
export const DEFAULT_PUSHES_PER_MINUTE = 3000;
/** See {@link DEFAULT_PUSHES_PER_MINUTE}. */
export const DEFAULT_PULLS_PER_MINUTE = 6000;

/** The `ferry serve --help` lines of the rate-limit flags. */
export const RATE_LIMIT_USAGE = `  --pushes-per-minute <n>       writes allowed per user per minute, across all processes on one
                    PostgreSQL (default ${DEFAULT_PUSHES_PER_MINUTE}; 0 = unlimited); past it: 429 + Retry-After
  --pulls-per-minute <n>        reads allowed per user per minute (default ${DEFAULT_PULLS_PER_MINUTE}; 0 = unlimited)`;

/** `parseArgs` options of the rate-limit flags. */
export const RATE_LIMIT_OPTIONS = {
  'pushes-per-minute': { type: 'string' },
  'pulls-per-minute': { type: 'string' },
} as const;

type Flags = { 'pushes-per-minute'?: string | undefined; 'pulls-per-minute'?: string | undefined };

/**
 * The server's `rateLimit` option from `--pushes-per-minute` / `--pulls-per-minute`. A bad
 * value throws `usageError(message)` (the CLI's usage error; passed in to keep this file free
 * of an import cycle with `runServe.ts`).
 *
 * @example
 * parseRateLimitFlags({ 'pulls-per-minute': '0' }, (m) => new Error(m)); // { pushesPerMinute: 3000, pullsPerMinute: 0 }
 */
export function parseRateLimitFlags(
  values: Flags,
  usageError: (message: string) => Error,
): Required<Pick<RateLimitOptions, 'pushesPerMinute' | 'pullsPerMinute'>> {
  const perMinute = (flag: keyof Flags, fallback: number): number => {
    const value = values[flag];
    if (value === undefined) return fallback;
    if (!/^\d{1,9}$/.test(value)) throw usageError(`--${flag} takes a whole number (0 = unlimited), got "${value}"`);
    return Number(value);
  };
  return {
    pushesPerMinute: perMinute('pushes-per-minute', DEFAULT_PUSHES_PER_MINUTE),
    pullsPerMinute: perMinute('pulls-per-minute', DEFAULT_PULLS_PER_MINUTE),
  };
}
