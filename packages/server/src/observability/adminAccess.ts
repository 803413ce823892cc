import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { HttpError } from '../errors.js';

/** Shortest admin token accepted: it guards every user's sync metadata. */
export const MIN_ADMIN_TOKEN_LENGTH = 32;

/** Who may read `/metrics`, `/v1/admin/…` and `/inspector`. */
export interface AdminOptions {
  /** A shared secret sent as `Authorization: Bearer <token>` (`FERRY_ADMIN_TOKEN`); at least 32 characters. */
  adminToken?: string;
  /** Also accept a user token (signed with the server's secret) that carries `"admin": true`. */
  adminClaim?: boolean;
}

/** Throws when an admin token is too short to be a secret. */
export function checkAdminOptions(options: AdminOptions): void {
  if (options.adminToken !== undefined && options.adminToken.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new Error(
      `adminToken is ${options.adminToken.length} characters; use a random one of at least ${MIN_ADMIN_TOKEN_LENGTH} (e.g. \`openssl rand -base64 33\`)`,
    );
  }
}

/** True when some admin credential is configured; otherwise the admin endpoints are not mounted at all. */
export function adminEnabled(options: AdminOptions): boolean {
  return options.adminToken !== undefined || options.adminClaim === true;
}

/** SHA-256 first, so the comparison takes the same time whatever the lengths. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * The `onRequest` check of every admin route: the admin token compared in constant time, or a
 * valid user token with `admin: true` when `adminClaim` is on. Throws 401 otherwise (403 for a
 * valid token without the claim).
 */
export function createAdminCheck(
  options: AdminOptions,
  verify: (header: string | undefined) => Promise<{ claims: Readonly<Record<string, unknown>> }>,
): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    const header = request.headers.authorization;
    const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (token !== undefined && options.adminToken !== undefined && sameSecret(token, options.adminToken)) return;
    if (token !== undefined && options.adminClaim === true) {
      const { claims } = await verify(header);
      if (claims.admin === true) return;
      throw HttpError.of('FORBIDDEN', 'This token has no "admin": true claim; use the admin token (FERRY_ADMIN_TOKEN)');
    }
    throw HttpError.of('UNAUTHORIZED', 'Send the admin token (FERRY_ADMIN_TOKEN) as "Authorization: Bearer <token>"');
  };
}
