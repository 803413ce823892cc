import { webcrypto } from 'node:crypto';
import { jwtVerify } from 'jose';
import { HttpError } from '../errors.js';
import { secretKey } from './secretKey.js';

/** How the server checks bearer tokens. */
export interface AuthOptions {
  /** HS256 secret shared with whoever issues the tokens. */
  secret: string | Uint8Array;
  /** Required `iss`, when set. */
  issuer?: string;
  /** Required `aud`, when set. */
  audience?: string;
  /** Allowed skew on `exp`/`nbf`, in seconds. Default 30. */
  clockToleranceSec?: number;
}

/** Longest `sub` accepted; it becomes the scope key of every row the user writes. */
const MAX_SUBJECT_LENGTH = 256;

/**
 * Builds the check for an `Authorization` header. It resolves to the scope (the token's `sub`)
 * or throws a 401 `HttpError`; the reason is logged through `cause`, and the message stays
 * generic enough not to help an attacker.
 */
export function createTokenVerifier(
  auth: AuthOptions,
  now: () => number,
): (header: string | undefined) => Promise<string> {
  const check = createTokenChecker(auth, now);
  return async (header) => (await check(header)).scope;
}

/** A verified token: its scope, and when it stops being accepted (ms, tolerance included). */
export interface VerifiedToken {
  scope: string;
  /** Null when the token has no `exp`. */
  expiresAt: number | null;
}

/**
 * Like {@link createTokenVerifier}, but also tells when the token expires, so a long-lived
 * connection (the live channel) can re-check it at that moment.
 */
export function createTokenChecker(
  auth: AuthOptions,
  now: () => number,
): (header: string | undefined) => Promise<VerifiedToken> {
  const raw = secretKey(auth.secret);
  // Imported once: handing jose the raw bytes makes it import a CryptoKey on every request,
  // which costs more than the HMAC check itself.
  let key: Promise<webcrypto.CryptoKey> | undefined;
  const cryptoKey = () => {
    key ??= webcrypto.subtle.importKey('raw', new Uint8Array(raw), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'verify',
    ]);
    return key;
  };
  const clockTolerance = auth.clockToleranceSec ?? 30;
  return async (header) => {
    const match = header === undefined ? null : /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header.trim());
    if (!match) {
      throw HttpError.of('UNAUTHORIZED', 'Missing bearer token: send "Authorization: Bearer <jwt>"');
    }
    let subject: unknown;
    let exp: unknown;
    try {
      const { payload } = await jwtVerify(match[1] as string, await cryptoKey(), {
        // Pinned: a token must never pick its own algorithm (alg: none, or RS/HS confusion).
        algorithms: ['HS256'],
        issuer: auth.issuer,
        audience: auth.audience,
        clockTolerance,
        currentDate: new Date(now()),
      });
      subject = payload.sub;
      exp = payload.exp;
    } catch (error) {
      const expired = (error as { code?: string }).code === 'ERR_JWT_EXPIRED';
      throw HttpError.of('UNAUTHORIZED', expired ? 'Token expired; sign in again' : 'Invalid token', error);
    }
    if (typeof subject !== 'string' || subject.length === 0 || subject.length > MAX_SUBJECT_LENGTH) {
      throw HttpError.of('UNAUTHORIZED', 'Token has no usable "sub" claim');
    }
    const expiresAt = typeof exp === 'number' ? (exp + clockTolerance) * 1000 : null;
    return { scope: subject, expiresAt };
  };
}
