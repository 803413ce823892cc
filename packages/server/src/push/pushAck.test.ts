/**
 * Compact acknowledgements lose nothing: whenever the server answers compactly, the record the
 * client rebuilds from its change is the record the full answer carries, key order included
 * (the client stores the JSON of data, vector and field stamps).
 */
import {
  type Change,
  compactResult,
  encodeHlc,
  expandPushResponse,
  HybridLogicalClock,
  recordFromChange,
  type ServerRecord,
} from '@ferry/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSchema } from '../schema/parseSchema.js';
import { T0 } from '../testing/testServer.js';
import { decideChange } from './decideChange.js';

const schema = parseSchema({
  entities: { todos: { fields: { title: 'string', completed: 'boolean', order: 'number', tags: 'array' } } },
});
const stamp = (offset: number, node = 'device-a') => encodeHlc({ wallTime: T0 + offset, counter: 0, node });

const fieldValue = {
  title: fc.string({ maxLength: 8 }),
  completed: fc.boolean(),
  order: fc.integer(),
  tags: fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 }),
};
// Data with a random subset of the fields, in a random order.
const dataArb = fc
  .shuffledSubarray(Object.keys(fieldValue) as Array<keyof typeof fieldValue>)
  .chain((fields) => fc.tuple(...fields.map((field) => fieldValue[field].map((value) => [field, value] as const))))
  .map((pairs) => Object.fromEntries(pairs));
const vectorArb = fc.dictionary(fc.constantFrom('device-a', 'device-b', 'server'), fc.integer({ min: 0, max: 4 }), {
  maxKeys: 3,
});

const currentArb: fc.Arbitrary<ServerRecord | null> = fc.option(
  fc
    .record({ data: dataArb, deleted: fc.boolean(), vector: vectorArb, version: fc.integer({ min: 1, max: 5 }) })
    .map(({ data, deleted, vector, version }) => ({
      entityType: 'todos',
      entityId: 't1',
      data: deleted ? null : data,
      deleted,
      version,
      vector,
      hlc: stamp(0, 'device-b'),
      fieldHlcs: Object.fromEntries(Object.keys(data).map((field) => [field, stamp(0, 'device-b')])),
      seq: 3,
      clientId: 'device-b',
      changeId: 'c-old',
    })),
  { nil: null },
);

const changeArb: fc.Arbitrary<Change> = fc
  .record({
    operation: fc.constantFrom('CREATE', 'UPDATE', 'DELETE'),
    data: dataArb,
    vector: vectorArb,
    // Stamps of a merged resolution: some behind the change's own stamp, some (clamped by the server) ahead.
    fieldHlcs: fc.option(
      fc.dictionary(fc.constantFrom('title', 'completed', 'order'), fc.integer({ min: -2, max: 2 })),
      {
        nil: undefined,
      },
    ),
    // A device clock far ahead: the server writes the change under its own stamp instead.
    at: fc.constantFrom(10, 10, 10 * 24 * 3600 * 1000),
  })
  .map(({ operation, data, vector, fieldHlcs, at }) => {
    const change: Change = {
      id: 'c-new',
      entityType: 'todos',
      entityId: 't1',
      operation,
      data: operation === 'DELETE' ? null : data,
      timestamp: T0 + at,
      hlc: stamp(at),
      version: 2,
      vector: { ...vector, 'device-a': (vector['device-a'] ?? 0) + 1 },
      clientId: 'device-a',
    };
    if (fieldHlcs) {
      change.fieldHlcs = Object.fromEntries(
        Object.entries(fieldHlcs).map(([field, offset]) => [field, stamp(at + offset)]),
      );
    }
    return change;
  });

function applied(change: Change, current: ServerRecord | null): ServerRecord | null {
  const decision = decideChange(
    { change, current, alreadyApplied: false },
    { schema, clock: new HybridLogicalClock('server', { now: () => T0 + 1000 }) },
  );
  return decision.kind === 'write' ? { ...decision.record, seq: 9 } : null;
}

describe('compact acknowledgements', () => {
  it('stand for exactly the full record whenever the server uses one, and are used for plain writes', () => {
    let compacted = 0;
    fc.assert(
      fc.property(changeArb, currentArb, (change, current) => {
        const record = applied(change, current);
        if (!record) return;
        for (const status of ['applied', 'duplicate'] as const) {
          const answer = compactResult({ changeId: change.id, status, record }, change);
          if (!('version' in answer)) {
            expect(answer).toEqual({ changeId: change.id, status, record });
            continue;
          }
          compacted++;
          const rebuilt = recordFromChange(change, answer.version, answer.seq);
          expect(rebuilt).toEqual(record);
          for (const part of ['data', 'vector', 'fieldHlcs'] as const) {
            expect(JSON.stringify(rebuilt[part])).toBe(JSON.stringify(record[part]));
          }
        }
      }),
      { numRuns: 400 },
    );
    // Not vacuous: a good share of random writes (every CREATE of a new entity) answer compactly.
    expect(compacted).toBeGreaterThan(50);
  });

  it('answer a CREATE of a new entity compactly, and a partial UPDATE, a conflict or a rejection in full', () => {
    const create: Change = {
      id: 'c1',
      entityType: 'todos',
      entityId: 't1',
      operation: 'CREATE',
      data: { title: 'milk', completed: false },
      timestamp: T0 + 10,
      hlc: stamp(10),
      version: 1,
      vector: { 'device-a': 1 },
      clientId: 'device-a',
    };
    const first = applied(create, null) as ServerRecord;
    expect(compactResult({ changeId: 'c1', status: 'applied', record: first }, create)).toEqual({
      changeId: 'c1',
      status: 'applied',
      version: 1,
      seq: 9,
    });
    const partial: Change = {
      ...create,
      id: 'c2',
      operation: 'UPDATE',
      data: { title: 'oat milk' },
      vector: { 'device-a': 2 },
    };
    const patched = applied(partial, first) as ServerRecord;
    expect(compactResult({ changeId: 'c2', status: 'applied', record: patched }, partial)).toHaveProperty('record');
    expect(compactResult({ changeId: 'c1', status: 'conflict', record: first }, create)).toHaveProperty('record');
    const rejected = {
      changeId: 'c1',
      status: 'rejected' as const,
      error: { code: 'X', message: 'm', retryable: false },
    };
    expect(compactResult(rejected, create)).toBe(rejected);
  });

  it('refuse to stand for a change other than the one at their position', () => {
    const change: Change = {
      id: 'c1',
      entityType: 'todos',
      entityId: 't1',
      operation: 'CREATE',
      data: { title: 'milk' },
      timestamp: T0,
      hlc: stamp(0),
      version: 1,
      vector: { 'device-a': 1 },
      clientId: 'device-a',
    };
    const answer = {
      results: [{ changeId: 'c2', status: 'applied' as const, version: 1, seq: 1 }],
      cursor: 1,
      serverTime: 1,
    };
    expect(expandPushResponse([change], answer)).toEqual({ problem: expect.stringContaining('c2') });
    expect(expandPushResponse([], answer)).toEqual({ problem: expect.stringContaining('no change') });
    const ok = expandPushResponse([change], { ...answer, results: [{ ...answer.results[0]!, changeId: 'c1' }] });
    expect(ok).toEqual({
      response: {
        results: [{ changeId: 'c1', status: 'applied', record: recordFromChange(change, 1, 1) }],
        cursor: 1,
        serverTime: 1,
      },
    });
  });
});
