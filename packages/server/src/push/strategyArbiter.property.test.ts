/**
 * Server arbitration as a property: 2–5 devices edit one record concurrently (each from the
 * same base), their pushes arrive in any order, some twice. Whatever the order, the server
 * ends with a record every device adopts (its vector has seen every push), and:
 * - `last-write-wins`: the latest push's fields; `first-write-wins`: the earliest push's;
 * - `merge`: every field holds the latest write of that field (no edit lost that no later
 *   edit of the same field overwrote);
 * - `server-wins`: the first push to arrive.
 */
import { type Change, dominates, encodeHlc, HybridLogicalClock, type ServerRecord } from '@ferry/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSchema } from '../schema/parseSchema.js';
import { T0 } from '../testing/testServer.js';
import { decideChange } from './decideChange.js';
import { createStrategyArbiter } from './strategyArbiter.js';

const schema = parseSchema({
  entities: { todos: { fields: { title: 'string', completed: 'boolean', order: 'number' } } },
});
const base: ServerRecord = {
  entityType: 'todos',
  entityId: 't1',
  data: { title: 'base', completed: false, order: 0 },
  deleted: false,
  version: 1,
  vector: { origin: 1 },
  hlc: encodeHlc({ wallTime: T0, counter: 0, node: 'origin' }),
  fieldHlcs: {},
  seq: 1,
  clientId: 'origin',
  changeId: 'c0',
};
base.fieldHlcs = { title: base.hlc, completed: base.hlc, order: base.hlc };

const editArb = fc.record({
  at: fc.integer({ min: 1, max: 5 }),
  data: fc
    .record(
      { title: fc.constantFrom('p', 'q', 'r'), completed: fc.boolean(), order: fc.integer({ min: 1, max: 3 }) },
      { requiredKeys: [] },
    )
    .filter((data) => Object.keys(data).length > 0),
});

function pushes(edits: Array<{ at: number; data: Record<string, string | number | boolean> }>): Change[] {
  return edits.map((edit, index) => {
    const node = `dev-${index}`;
    const hlc = encodeHlc({ wallTime: T0 + edit.at, counter: 0, node });
    return {
      id: `c-${index}`,
      entityType: 'todos',
      entityId: 't1',
      operation: 'UPDATE',
      data: edit.data,
      timestamp: T0 + edit.at,
      hlc,
      version: 2,
      vector: { origin: 1, [node]: 1 },
      clientId: node,
    };
  });
}

function deliver(strategy: string, changes: Change[], order: number[]): ServerRecord {
  const context = {
    schema,
    clock: new HybridLogicalClock('server', { now: () => T0 + 1000 }),
    arbitrate: createStrategyArbiter({ todos: strategy as 'merge' }),
  };
  let current = base;
  const applied = new Set<string>();
  for (const index of order) {
    const change = changes[index] as Change;
    const decision = decideChange({ change, current, alreadyApplied: applied.has(change.id) }, context);
    if (decision.kind === 'write') {
      applied.add(change.id);
      current = { ...decision.record, seq: current.seq + 1 };
    }
  }
  return current;
}

const scenarioArb = fc.array(editArb, { minLength: 2, maxLength: 5 }).chain((edits) =>
  fc.record({
    edits: fc.constant(edits),
    // Every push arrives at least once, in any order, some of them again.
    order: fc
      .tuple(
        fc.shuffledSubarray(
          edits.map((_, i) => i),
          { minLength: edits.length },
        ),
        fc.array(fc.integer({ min: 0, max: edits.length - 1 }), { maxLength: 3 }),
      )
      .map(([all, again]) => [...all, ...again]),
  }),
);

describe('server arbitration: any delivery order, with duplicates', () => {
  it.each(['last-write-wins', 'first-write-wins', 'merge', 'server-wins'])('%s', (strategy) => {
    fc.assert(
      fc.property(scenarioArb, ({ edits, order }) => {
        const changes = pushes(edits);
        const final = deliver(strategy, changes, order);
        // Every device adopts the result: it has seen every push (server-wins: the pushes it
        // did not apply are reported as conflicts, and their devices adopt the record).
        if (strategy !== 'server-wins')
          for (const change of changes) expect(dominates(final.vector, change.vector)).toBe(true);
        const byStamp = [...changes].sort((x, y) => (x.hlc < y.hlc ? -1 : 1));
        const expectFields = (change: Change) => expect(final.data).toMatchObject(change.data as object);
        if (strategy === 'last-write-wins') expectFields(byStamp.at(-1) as Change);
        if (strategy === 'first-write-wins') expectFields(byStamp[0] as Change);
        if (strategy === 'server-wins') expectFields(changes[order[0] as number] as Change);
        if (strategy === 'merge') {
          for (const field of ['title', 'completed', 'order']) {
            const writers = byStamp.filter((change) => Object.hasOwn(change.data ?? {}, field));
            const latest = writers.at(-1);
            expect(final.data?.[field]).toEqual(latest ? latest.data?.[field] : base.data?.[field]);
          }
        }
        // Field by field, merge does not even depend on the order (the others' overlays may).
        if (strategy === 'merge') {
          const reversed = deliver(strategy, changes, [...order].reverse());
          expect(reversed.data).toEqual(final.data);
        }
      }),
      { numRuns: 300 },
    );
  });
});
