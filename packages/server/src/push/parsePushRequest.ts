import {
  CHANGE_ID_PATTERN,
  type Change,
  ChangeIdSchema,
  type ChangeResult,
  ChangeSchema,
  CLIENT_ID_PATTERN,
  ClientIdSchema,
  describeIssues,
  ERROR_META,
  fastChange,
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

interface Envelope {
  clientId: string;
  changes: unknown[];
}

/**
 * The envelope when `PushEnvelopeSchema` would accept it unchanged (exactly its two keys, a
 * valid client id, 1 to the most changes), else `undefined`: the schema then gives the verdict.
 */
function fastEnvelope(body: object): Envelope | undefined {
  if (Object.getPrototypeOf(body) !== Object.prototype) return undefined;
  let keys = 0;
  for (const key in body) {
    if (!Object.hasOwn(body, key) || (key !== 'clientId' && key !== 'changes')) return undefined;
    keys++;
  }
  const { clientId, changes } = body as { clientId?: unknown; changes?: unknown };
  if (keys !== 2 || typeof clientId !== 'string' || !CLIENT_ID_PATTERN.test(clientId)) return undefined;
  if (!Array.isArray(changes) || changes.length < 1 || changes.length > LIMITS.maxChangesPerPush) return undefined;
  return { clientId, changes };
}

/** The change id as `ChangeIdSchema` outputs it, or the 400 that names what is wrong with it. */
function parseChangeId(id: unknown, index: number): string {
  const changeId = v.safeParse(ChangeIdSchema, id);
  if (!changeId.success) {
    throw HttpError.of('VALIDATION_ERROR', `changes.${index}.id: ${describeIssues(changeId.issues)}`);
  }
  return changeId.output;
}

function parseEnvelope(body: object): Envelope {
  const envelope = v.safeParse(PushEnvelopeSchema, body);
  if (!envelope.success) throw HttpError.of('VALIDATION_ERROR', describeIssues(envelope.issues));
  return envelope.output;
}

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
  const { clientId, changes: raws } = fastEnvelope(body) ?? parseEnvelope(body);
  if (clientId === SERVER_CLIENT_ID) {
    throw HttpError.of('VALIDATION_ERROR', `clientId "${SERVER_CLIENT_ID}" is reserved for the server`);
  }
  const entries = raws.map((raw, index): PushEntry => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw HttpError.of('VALIDATION_ERROR', `changes.${index} must be a change object`);
    }
    const { id, clientId: author } = raw as { id?: unknown; clientId?: unknown };
    const changeId = typeof id === 'string' && CHANGE_ID_PATTERN.test(id) ? id : parseChangeId(id, index);
    if (author !== clientId) {
      throw HttpError.of(
        'VALIDATION_ERROR',
        `changes.${index}.clientId is ${JSON.stringify(author)?.slice(0, 80)} but the push is from "${clientId}"`,
      );
    }
    const change = fastChange(raw);
    if (change) return { change };
    const parsed = v.safeParse(ChangeSchema, raw);
    if (parsed.success) return { change: parsed.output };
    return {
      rejected: {
        changeId,
        status: 'rejected',
        error: {
          code: 'VALIDATION_ERROR',
          message: `Change ${changeId} is invalid: ${describeIssues(parsed.issues)}`,
          retryable: ERROR_META.VALIDATION_ERROR.retryable,
        },
      },
    };
  });
  return { clientId, entries };
}
