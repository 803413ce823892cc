import { webcrypto } from 'node:crypto';
import { isWellFormedText } from '@ferry/protocol';
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
  /**
   * Allowed skew between the issuer's clock and the server's on `exp`/`nbf`, in seconds
   * (0-300). Default {@link DEFAULT_CLOCK_TOLERANCE_SEC}. A live connection closes at `exp`
   * plus this tolerance.
   */
  clockToleranceSec?: number;
}

/** Shortest HS256 secret accepted, in bytes: the size of the hash, as RFC 7518 §3.2 requires. */
export const MIN_SECRET_BYTES = 32;
/** Default {@link AuthOptions.clockToleranceSec}. */
export const DEFAULT_CLOCK_TOLERANCE_SEC = 5;
/** Largest {@link AuthOptions.clockToleranceSec}: past this, an expired token lives on too long. */
export const MAX_CLOCK_TOLERANCE_SEC = 300;

/**
 * Checks auth options before a server starts: a short secret can be brute-forced offline from
 * one token, and a tolerance that is not a number would silently disable expiry.
 */
export function checkAuthOptions(auth: AuthOptions): void {
  const bytes = secretKey(auth.secret).length;
  if (bytes < MIN_SECRET_BYTES) {
    throw new Error(
      `auth.secret is ${bytes} bytes; use a random secret of at least ${MIN_SECRET_BYTES} bytes (e.g. \`openssl rand -base64 48\`)`,
    );
  }
  const tolerance = auth.clockToleranceSec ?? DEFAULT_CLOCK_TOLERANCE_SEC;
  if (!(Number.isFinite(tolerance) && tolerance >= 0 && tolerance <= MAX_CLOCK_TOLERANCE_SEC)) {
    throw new Error(`auth.clockToleranceSec must be 0-${MAX_CLOCK_TOLERANCE_SEC} seconds, got ${tolerance}`);
  }
}

/** Longest `sub` accepted; it becomes the scope key of every row the user writes. */
const MAX_SUBJECT_LENGTH = 256;

/** User ids never start with this: it names shared spaces, whose scopes must never be a user's. */
const SHARED_SPACE_PREFIX = 'sp_';

/** A `sub` that storage keeps exactly: no control characters, no lone surrogates (UTF-8 would alter them, merging scopes). */
function isUsableSubject(subject: unknown): subject is string {
  return (
    typeof subject === 'string' &&
    subject.length > 0 &&
    subject.length <= MAX_SUBJECT_LENGTH &&
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    !/[\u0000-\u001f\u007f]/.test(subject) &&
    isWellFormedText(subject)
  );
}

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
  /** The token's claims (membership from the token reads its spaces claim here). */
  claims: Readonly<Record<string, unknown>>;
  /** `exp` plus the clock tolerance, in ms; every accepted token has an `exp`. */
  expiresAt: number;
}

/**
 * Like {@link createTokenVerifier}, but also tells when the token expires, so a long-lived
 * connection (the live channel) can re-check it at that moment.
 */
export function createTokenChecker(
  auth: AuthOptions,
  now: () => number,
): (header: string | undefined) => Promise<VerifiedToken> {
  checkAuthOptions(auth);
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
  const clockTolerance = auth.clockToleranceSec ?? DEFAULT_CLOCK_TOLERANCE_SEC;
  // A device sends the same token on every request until it expires: a token verified once
  // is remembered (bounded, oldest first out) and only its expiry is checked again. Refusals
  // are never remembered, so a token is judged afresh until it passes.
  const verified = new Map<string, VerifiedToken>();
  return async (header) => {
    const match = header === undefined ? null : /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header.trim());
    if (!match) {
      throw HttpError.of('UNAUTHORIZED', 'Missing bearer token: send "Authorization: Bearer <jwt>"');
    }
    const token = match[1] as string;
    const known = verified.get(token);
    if (known) {
      if (now() < known.expiresAt) return known;
      verified.delete(token);
      throw HttpError.of('UNAUTHORIZED', 'Token expired; sign in again');
    }
    const checked = await verify(token);
    if (verified.size >= VERIFIED_TOKENS_KEPT) verified.delete(verified.keys().next().value as string);
    verified.set(token, checked);
    return checked;
  };

  async function verify(token: string): Promise<VerifiedToken> {
    let subject: unknown;
    let exp: unknown;
    let claims: Record<string, unknown> = {};
    try {
      const { payload } = await jwtVerify(token, await cryptoKey(), {
        // Pinned: a token must never pick its own algorithm (alg: none, or RS/HS confusion).
        algorithms: ['HS256'],
        issuer: auth.issuer,
        audience: auth.audience,
        clockTolerance,
        currentDate: new Date(now()),
        // A token without an expiry would be valid forever, however it leaked.
        requiredClaims: ['exp'],
      });
      subject = payload.sub;
      exp = payload.exp;
      claims = payload;
    } catch (error) {
      throw HttpError.of('UNAUTHORIZED', refusal(error), error);
    }
    if (!isUsableSubject(subject)) throw HttpError.of('UNAUTHORIZED', 'Token has no usable "sub" claim');
    // A user's private space is the scope named by their `sub`; shared spaces are `sp_…`.
    if (subject.startsWith(SHARED_SPACE_PREFIX)) {
      throw HttpError.of(
        'UNAUTHORIZED',
        `Token "sub" must not start with "${SHARED_SPACE_PREFIX}" (reserved for shared spaces)`,
      );
    }
    return { scope: subject, claims, expiresAt: ((exp as number) + clockTolerance) * 1000 };
  }
}

/** Verified tokens remembered per server process (about 1 KiB each). */
const VERIFIED_TOKENS_KEPT = 10_000;

/** The 401 message for a token jose refused: precise where it helps the app, generic otherwise. */
function refusal(error: unknown): string {
  const { code, claim, reason } = error as { code?: string; claim?: string; reason?: string };
  if (code === 'ERR_JWT_EXPIRED') return 'Token expired; sign in again';
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && claim === 'exp' && reason === 'missing') {
    return 'Token has no "exp" claim; this server only accepts tokens that expire';
  }
  return 'Invalid token';
}
