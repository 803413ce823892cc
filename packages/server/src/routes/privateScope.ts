import type { FastifyRequest } from 'fastify';
import { requestScope } from '../auth/requestScope.js';
import { HttpError } from '../errors.js';

/**
 * The scope of a route that serves the user's private space only (`GET /v1/pull`,
 * `GET /v1/changes`, the REST entity routes). A `space` query parameter is refused with a
 * clear 400 rather than ignored: ignoring it would read or write the private space while the
 * caller believes it reached a shared one.
 */
export function privateScope(request: FastifyRequest): string {
  const query = request.query;
  if (typeof query === 'object' && query !== null && Object.hasOwn(query, 'space')) {
    throw HttpError.of(
      'VALIDATION_ERROR',
      `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]} serves your private space only; ` +
        'read shared spaces with POST /v1/pull and write them with POST /v1/push (a change with "space")',
    );
  }
  return requestScope(request);
}
