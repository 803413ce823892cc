import {
  type Change,
  ChangeIdSchema,
  type ChangeResult,
  ChangeSchema,
  ClientIdSchema,
  describeIssues,
  ERROR_META,
  LIMITS,
} from '@ferry/protocol';
import * as v from 'valibot';
import { HttpError } from '../errors.js';

/** Client id the server writes its own changes under; a device may not use it. */
export const SERVER_CLIENT_ID = 'server';

/** One pushed change after validation: one to apply, or one refused on its own, with the reason. */
export type PushEntry = { change: Change; rejected?: undefined } | { change?: undefined; rejected: ChangeResult };

/** A push whose envelope is valid; each change is judged on its own. */
export interface ParsedPush {
  clientId: string;
  /** One per pushed change, in order. */
  entries: PushEntry[];
}

// The changes stay `unknown` here: each one is validated on its own below.
const PushEnvelopeSchema = v.strictObject({
  clientId: ClientIdSchema,
  changes: v.pipe(
    v.array(v.unknown()),
    v.minLength(1, 'a push needs at least one change'),
    v.maxLength(LIMITS.maxChangesPerPush, `a push carries at most ${LIMITS.maxChangesPerPush} changes`),
  ),
});

/**
 * Validates a push in two layers. The envelope (body shape, `clientId`, the number of changes,
 * and each change's `id` and `clientId`, without which no result could name it or trust it)
 * fails the whole request with a 400. Anything else wrong with one change (a bad entity id,
 * data or stamp) rejects that change only, so one bad change in a device's outbox never
 * blocks the rest; the apply step does the same for undeclared entity types and fields that
 * do not fit the schema.
 */
export function parsePushRequest(body: unknown): ParsedPush {
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
  const envelope = v.safeParse(PushEnvelopeSchema, body);
  if (!envelope.success) throw HttpError.of('VALIDATION_ERROR', describeIssues(envelope.issues));
  const { clientId } = envelope.output;
  if (clientId === SERVER_CLIENT_ID) {
    throw HttpError.of('VALIDATION_ERROR', `clientId "${SERVER_CLIENT_ID}" is reserved for the server`);
  }
  const entries = envelope.output.changes.map((raw, index): PushEntry => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw HttpError.of('VALIDATION_ERROR', `changes.${index} must be a change object`);
    }
    const { id, clientId: author } = raw as { id?: unknown; clientId?: unknown };
    const changeId = v.safeParse(ChangeIdSchema, id);
    if (!changeId.success) {
      throw HttpError.of('VALIDATION_ERROR', `changes.${index}.id: ${describeIssues(changeId.issues)}`);
    }
    if (author !== clientId) {
      throw HttpError.of(
        'VALIDATION_ERROR',
        `changes.${index}.clientId is ${JSON.stringify(author)?.slice(0, 80)} but the push is from "${clientId}"`,
      );
    }
    const parsed = v.safeParse(ChangeSchema, raw);
    if (parsed.success) return { change: parsed.output };
    return {
      rejected: {
        changeId: changeId.output,
        status: 'rejected',
        error: {
          code: 'VALIDATION_ERROR',
          message: `Change ${changeId.output} is invalid: ${describeIssues(parsed.issues)}`,
          retryable: ERROR_META.VALIDATION_ERROR.retryable,
        },
      },
    };
  });
  return { clientId, entries };
}
