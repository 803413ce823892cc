/**
 * parsePushRequest takes fast paths (fastChange, a hand-checked envelope) before valibot. As a
 * property: on random and hostile bodies it answers exactly what the schema-only validation
 * answers (kept below as the reference): the same entries, or the same error code and message.
 */
import {
  ChangeIdSchema,
  ChangeSchema,
  ClientIdSchema,
  describeIssues,
  ERROR_META,
  encodeHlc,
  LIMITS,
} from '@ferry/protocol';
import fc from 'fast-check';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../errors.js';
import { type ParsedPush, type PushEntry, parsePushRequest, SERVER_CLIENT_ID } from './parsePushRequest.js';

/** The validation as it was before the fast paths: valibot for everything. */
function referenceParse(body: unknown): ParsedPush {
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
  const envelope = v.safeParse(
    v.strictObject({
      clientId: ClientIdSchema,
      changes: v.pipe(
        v.array(v.unknown()),
        v.minLength(1, 'a push needs at least one change'),
        v.maxLength(LIMITS.maxChangesPerPush, `a push carries at most ${LIMITS.maxChangesPerPush} changes`),
      ),
    }),
    body,
  );
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

type Verdict = { parsed: ParsedPush } | { status: number; code: string; message: string };

function verdict(parse: (body: unknown) => ParsedPush, body: unknown): Verdict {
  try {
    return { parsed: parse(body) };
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    return { status: error.status, code: error.code, message: error.message };
  }
}

function expectSameVerdict(body: unknown): void {
  const fast = verdict(parsePushRequest, body);
  expect(fast).toStrictEqual(verdict(referenceParse, body));
  if ('parsed' in fast) {
    // Same key order too: the change log stores each change as JSON text.
    const reference = referenceParse(body);
    fast.parsed.entries.forEach((entry, index) => {
      expect(JSON.stringify(entry)).toBe(JSON.stringify(reference.entries[index]));
    });
  }
}

const HLC = encodeHlc({ wallTime: 1_732_550_000_000, counter: 0, node: 'dev1' });
const change = (overrides: Record<string, unknown> = {}) => ({
  id: `${HLC}.abc123`,
  entityType: 'todos',
  entityId: 't1',
  operation: 'CREATE',
  data: { title: 'milk', done: false },
  timestamp: 1_732_550_000_000,
  hlc: HLC,
  version: 1,
  vector: { dev1: 1 },
  clientId: 'dev1',
  ...overrides,
});

describe('parsePushRequest', () => {
  it('answers hostile bodies exactly as schema-only validation does', () => {
    const bodies: unknown[] = [
      undefined,
      null,
      'push',
      [],
      {},
      { clientId: 'dev1' },
      { clientId: 'dev1', changes: [] },
      { clientId: 'dev1', changes: {} },
      { clientId: 'dev1', changes: [change()], extra: 1 },
      { clientId: 'server', changes: [change({ clientId: 'server' })] },
      { clientId: 'constructor', changes: [change()] },
      { clientId: 7, changes: [change()] },
      { clientId: 'dev1', changes: Array.from({ length: LIMITS.maxChangesPerPush + 1 }, () => change()) },
      {
        clientId: 'dev1',
        changes: Array.from({ length: LIMITS.maxChangesPerPush }, (_, i) => change({ id: `c${i}` })),
      },
      JSON.parse('{"clientId": "dev1", "changes": [], "__proto__": {"x": 1}}'),
      Object.assign(Object.create(null), { clientId: 'dev1', changes: [change()] }),
      { clientId: 'dev1', changes: [null] },
      { clientId: 'dev1', changes: [[change()]] },
      { clientId: 'dev1', changes: [change({ id: '' })] },
      { clientId: 'dev1', changes: [change({ id: undefined })] },
      { clientId: 'dev1', changes: [change({ id: 12 })] },
      { clientId: 'dev1', changes: [change({ clientId: 'dev2' })] },
      { clientId: 'dev1', changes: [change(), change({ entityId: '' }), change({ data: { 'a b': 1 } })] },
      { clientId: 'dev1', changes: [change({ data: { title: 'a\u0000' } }), change({ operation: 'DELETE' })] },
    ];
    for (const body of bodies) expectSameVerdict(body);
  });

  it('answers random bodies exactly as schema-only validation does', () => {
    const anyChange = fc.oneof(
      { weight: 3, arbitrary: fc.constant(change()) },
      {
        weight: 3,
        arbitrary: fc
          .record({
            key: fc.constantFrom('id', 'entityId', 'operation', 'data', 'version', 'vector', 'clientId', 'space', 'x'),
            value: fc.oneof(fc.anything(), fc.string(), fc.integer(), fc.constant(null)),
          })
          .map(({ key, value }) => change({ [key]: value })),
      },
      { weight: 1, arbitrary: fc.anything() },
    );
    const body = fc.oneof(
      fc.record({ clientId: fc.constantFrom('dev1', 'server', 'bad id', 'dev2'), changes: fc.array(anyChange) }),
      fc.record(
        { clientId: fc.anything(), changes: fc.oneof(fc.array(anyChange), fc.anything()), extra: fc.anything() },
        { requiredKeys: [] },
      ),
      fc.anything(),
    );
    fc.assert(
      fc.property(body, (input) => {
        expectSameVerdict(input);
        const wire = JSON.stringify(input);
        if (wire !== undefined) expectSameVerdict(JSON.parse(wire));
      }),
      { numRuns: 2000 },
    );
  });
});
