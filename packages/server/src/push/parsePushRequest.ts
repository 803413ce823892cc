import { describeIssues, LIMITS, type PushRequest, PushRequestSchema } from '@ferry/protocol';
import * as v from 'valibot';
import { HttpError } from '../errors.js';
import type { ServerSchema } from '../schema/parseSchema.js';

/** Client id the server writes its own changes under; a device may not use it. */
export const SERVER_CLIENT_ID = 'server';

/**
 * Validates a push body as a whole: any problem rejects the entire request, before anything
 * is applied. Per-change problems that leave the rest valid (field types) are the apply
 * step's business, not this one's.
 */
export function parsePushRequest(body: unknown, schema: ServerSchema): PushRequest {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw HttpError.of('BAD_REQUEST', 'Request body must be a JSON object { clientId, changes }');
  }
  const changes = (body as { changes?: unknown }).changes;
  if (Array.isArray(changes) && changes.length > LIMITS.maxChangesPerPush) {
    throw HttpError.of(
      'TOO_MANY_CHANGES',
      `A push carries at most ${LIMITS.maxChangesPerPush} changes, got ${changes.length}; split it into batches`,
    );
  }
  const parsed = v.safeParse(PushRequestSchema, body);
  if (!parsed.success) throw HttpError.of('VALIDATION_ERROR', describeIssues(parsed.issues));
  const request = parsed.output;
  if (request.clientId === SERVER_CLIENT_ID) {
    throw HttpError.of('VALIDATION_ERROR', `clientId "${SERVER_CLIENT_ID}" is reserved for the server`);
  }
  request.changes.forEach((change, index) => {
    if (change.clientId !== request.clientId) {
      throw HttpError.of(
        'VALIDATION_ERROR',
        `changes.${index}.clientId is "${change.clientId}" but the push is from "${request.clientId}"`,
      );
    }
    if (!schema.entities.has(change.entityType)) {
      throw HttpError.of(
        'UNKNOWN_ENTITY_TYPE',
        `changes.${index}.entityType "${change.entityType}" is not declared in the server schema`,
      );
    }
  });
  return request;
}
