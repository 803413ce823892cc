import { SignJWT } from 'jose';
import { secretKey } from './secretKey.js';

/** Issuer and audience of dev tokens; a dev server pins both. */
export const DEV_TOKEN_ISSUER = 'ferry-dev';
export const DEV_TOKEN_AUDIENCE = 'ferry';

/** Options of {@link signDevToken}. */
export interface DevTokenOptions {
  /** Duration from `now` (`'90s'`, `'15m'`, `'12h'`, `'7d'`, `'2w'`) or seconds from `now`. Default `'7d'`. */
  expiresIn?: string | number;
  /** Issue time in ms; injectable so tests can make expired tokens without sleeping. */
  now?: number;
}

/**
 * Signs an HS256 token whose `sub` is `userId`, for development and tests only: real apps
 * get tokens from their own identity provider, signed with the secret the server verifies.
 *
 * @example
 * const token = await signDevToken(secret, 'alice', { expiresIn: '1h' });
 */
export async function signDevToken(
  secret: string | Uint8Array,
  userId: string,
  options: DevTokenOptions = {},
): Promise<string> {
  const issuedAt = Math.floor((options.now ?? Date.now()) / 1000);
  const expiresIn = options.expiresIn ?? '7d';
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuer(DEV_TOKEN_ISSUER)
    .setAudience(DEV_TOKEN_AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + (typeof expiresIn === 'number' ? expiresIn : durationSeconds(expiresIn)))
    .sign(secretKey(secret));
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/**
 * Seconds in a duration like `'12h'`. Computed here rather than by jose, which counts a string
 * duration from the real current time and would ignore an injected `now`.
 */
function durationSeconds(duration: string): number {
  const match = /^(\d+)\s*([smhdw])$/.exec(duration.trim());
  if (!match) throw new TypeError(`expiresIn must be seconds or a duration like '15m', '12h', '7d'; got "${duration}"`);
  return Number(match[1]) * (UNIT_SECONDS[match[2] as string] as number);
}
