import type { FastifyRequest } from 'fastify';

// A WeakMap rather than a decorated request field: no global type augmentation, no leaks.
const scopes = new WeakMap<FastifyRequest, string>();
const claimsOf = new WeakMap<FastifyRequest, Readonly<Record<string, unknown>>>();

/** Records the authenticated scope (and the token's claims) of a request (called by the auth hook only). */
export function setRequestScope(
  request: FastifyRequest,
  scope: string,
  claims: Readonly<Record<string, unknown>> = {},
): void {
  scopes.set(request, scope);
  claimsOf.set(request, claims);
}

/** The verified token claims of an authenticated request (membership from the token reads them). */
export function requestClaims(request: FastifyRequest): Readonly<Record<string, unknown>> {
  return claimsOf.get(request) ?? {};
}

/** The scope (token `sub`) of an authenticated request; every read and write is confined to it. */
export function requestScope(request: FastifyRequest): string {
  const scope = scopes.get(request);
  // Reaching here means a route was registered outside the authenticated scope: a server bug.
  if (scope === undefined) throw new Error(`No authenticated scope for ${request.method} ${request.url}`);
  return scope;
}

/** The scope of a request when it was authenticated, else undefined (for logs and metrics). */
export function authenticatedScope(request: FastifyRequest): string | undefined {
  return scopes.get(request);
}
