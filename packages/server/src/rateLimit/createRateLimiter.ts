import type { FastifyReply } from 'fastify';
import { HttpError } from '../errors.js';
import { MemoryRateCounter, type RateCounter } from './RateCounter.js';

/** Per-user request limits; see docs/deploy.md ("Rate limits"). */
export interface RateLimitOptions {
  /** Writes (`POST /v1/push`, `/v1/batch`, entity writes) per user per minute; 0 or absent: unlimited. */
  pushesPerMinute?: number;
  /** Reads (`GET /v1/pull`, `/v1/changes`, entity reads) per user per minute; 0 or absent: unlimited. */
  pullsPerMinute?: number;
  /**
   * Where counts live. Default: the storage's shared counter when it has one (PostgreSQL, so
   * limits hold across processes), else an in-process {@link MemoryRateCounter}.
   */
  counter?: RateCounter;
}

/** Which allowance a request draws on. */
export type RateKind = 'push' | 'pull';

/**
 * Charges one request of `scope` (the token's `sub`) to its allowance; throws a 429
 * `RATE_LIMITED` with `Retry-After` set on `reply` when the allowance is spent.
 */
export type RateLimiter = (scope: string, kind: RateKind, reply: FastifyReply) => Promise<void>;

const WINDOW_MS = 60_000;

function checkLimit(name: string, value: number | undefined): number {
  if (value === undefined) return 0;
  if (!Number.isInteger(value) || value < 0) {
    throw new TypeError(`rateLimit.${name} must be a whole number of requests (0 = unlimited), got ${value}`);
  }
  return value;
}

/** GET and HEAD read; every other method writes. */
export function rateKindOf(method: string): RateKind {
  return method === 'GET' || method === 'HEAD' ? 'pull' : 'push';
}

/**
 * Builds the fixed-window limiter `createServer` installs after authentication. Returns null
 * when both limits are off, so the request path does no work at all. A kind whose limit is
 * off costs nothing; a limited one costs one counter hit (one round trip on PostgreSQL).
 *
 * @example
 * const limit = createRateLimiter({ pushesPerMinute: 600 }, storage.createRateCounter?.(), Date.now);
 * await limit?.('alice', 'push', reply); // throws HttpError 429 past 600 in a minute
 */
export function createRateLimiter(
  options: RateLimitOptions,
  sharedCounter: RateCounter | undefined,
  now: () => number,
): RateLimiter | null {
  const limits: Record<RateKind, number> = {
    push: checkLimit('pushesPerMinute', options.pushesPerMinute),
    pull: checkLimit('pullsPerMinute', options.pullsPerMinute),
  };
  if (limits.push === 0 && limits.pull === 0) return null;
  const counter = options.counter ?? sharedCounter ?? new MemoryRateCounter();
  return async (scope, kind, reply) => {
    const limit = limits[kind];
    if (limit === 0) return;
    const at = now();
    const windowStart = at - (at % WINDOW_MS);
    const hits = await counter.hit(`${kind}:${scope}`, windowStart, WINDOW_MS);
    if (hits <= limit) return;
    const retryAfterSeconds = Math.max(1, Math.ceil((windowStart + WINDOW_MS - at) / 1000));
    reply.header('retry-after', String(retryAfterSeconds));
    const what = kind === 'push' ? 'writes' : 'reads';
    throw HttpError.of(
      'RATE_LIMITED',
      `Too many ${what}: the limit is ${limit} a minute per user; retry after ${retryAfterSeconds} s`,
    );
  };
}
