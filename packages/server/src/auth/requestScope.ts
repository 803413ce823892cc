import type { FastifyRequest } from 'fastify';

// A WeakMap rather than a decorated request field: no global type augmentation, no leaks.
const scopes = new WeakMap<FastifyRequest, string>();

/** Records the authenticated scope of a request (called by the auth hook only). */
export function setRequestScope(request: FastifyRequest, scope: string): void {
  scopes.set(request, scope);
}

/** The scope (token `sub`) of an authenticated request; every read and write is confined to it. */
export function requestScope(request: FastifyRequest): string {
  const scope = scopes.get(request);
  // Reaching here means a route was registered outside the authenticated scope: a server bug.
  if (scope === undefined) throw new Error(`No authenticated scope for ${request.method} ${request.url}`);
  return scope;
}
