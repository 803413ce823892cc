import type { FastifyRequest } from 'fastify';
import { requestState } from '../requestState.js';

/** Records the authenticated scope (and the token's claims) of a request (called by the auth hook only). */
export function setRequestScope(
  request: FastifyRequest,
  scope: string,
  claims: Readonly<Record<string, unknown>> = {},
): void {
  const state = requestState(request);
  state.scope = scope;
  state.claims = claims;
}

/** The verified token claims of an authenticated request (membership from the token reads them). */
export function requestClaims(request: FastifyRequest): Readonly<Record<string, unknown>> {
  return requestState(request).claims;
}

/** The scope (token `sub`) of an authenticated request; every read and write is confined to it. */
export function requestScope(request: FastifyRequest): string {
  const scope = requestState(request).scope;
  // Reaching here means a route was registered outside the authenticated scope: a server bug.
  if (scope === undefined) throw new Error(`No authenticated scope for ${request.method} ${request.url}`);
  return scope;
}

/** The scope of a request when it was authenticated, else undefined (for logs and metrics). */
export function authenticatedScope(request: FastifyRequest): string | undefined {
  return requestState(request).scope;
}
