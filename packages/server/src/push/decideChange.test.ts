import { type Change, encodeHlc, HybridLogicalClock, type ServerRecord, type VersionVector } from '@ferry/protocol';
import { describe, expect, it } from 'vitest';
import { parseSchema } from '../schema/parseSchema.js';
import { makeChange, T0 } from '../testing/testServer.js';
import { type ConflictArbiter, type DecideContext, decideChange } from './decideChange.js';

const schema = parseSchema({
  entities: {
    todos: { fields: { title: 'string', completed: 'boolean', order: 'number', tags: 'array', meta: 'object' } },
    strictOnes: { fields: { name: 'string' }, strict: true },
  },
});

function context(extra: Partial<DecideContext> = {}): DecideContext {
  return { schema, clock: new HybridLogicalClock('server', { now: () => T0 + 1000 }), ...extra };
}

function existing(overrides: Partial<ServerRecord> = {}): ServerRecord {
  const hlc = encodeHlc({ wallTime: T0, counter: 0, node: 'device-a' });
  return {
    entityType: 'todos',
    entityId: 't1',
    data: { title: 'a', completed: false },
    deleted: false,
    version: 1,
    vector: { 'device-a': 1 },
    hlc,
    fieldHlcs: { title: hlc, completed: hlc },
    seq: 1,
    clientId: 'device-a',
    changeId: 'c0',
    ...overrides,
  };
}

const decide = (change: Change, current: ServerRecord | null, ctx = context()) =>
  decideChange({ change, current, alreadyApplied: false }, ctx);

describe('decideChange', () => {
  it('reports a logged change as a duplicate with the current record, before anything else', () => {
    const current = existing();
    const decision = decideChange(
      { change: makeChange({ entityId: 't1', data: { title: 1 } }), current, alreadyApplied: true },
      context(),
    );
    expect(decision).toEqual({
      kind: 'skip',
      result: expect.objectContaining({ status: 'duplicate', record: current }),
    });
  });

  it.each([
    [{ title: 5 }, 'todos.title must be a string, got number'],
    [{ completed: 'no' }, 'todos.completed must be a boolean, got string'],
    [{ tags: {} }, 'todos.tags must be an array, got object'],
    [{ meta: [] }, 'todos.meta must be an object, got array'],
  ])('rejects %j: %s', (data, message) => {
    const decision = decide(makeChange({ entityId: 't1', data }), null);
    expect(decision).toMatchObject({
      kind: 'skip',
      result: { status: 'rejected', error: { code: 'VALIDATION_ERROR', message } },
    });
  });

  it('accepts null and undeclared fields, but not undeclared fields on a strict type', () => {
    expect(decide(makeChange({ entityId: 't1', data: { title: null, extra: 1 } }), null).kind).toBe('write');
    const strict = decide(
      makeChange({ entityId: 's1', entityType: 'strictOnes', data: { name: 'x', extra: 1 } }),
      null,
    );
    expect(strict).toMatchObject({
      result: { status: 'rejected', error: { message: expect.stringMatching(/strictOnes\.extra.*strict/) } },
    });
  });

  it('reports a concurrent or older vector as a conflict', () => {
    const current = existing({ vector: { 'device-a': 1, 'device-b': 1 } });
    for (const vector of [{ 'device-a': 2 }, { 'device-a': 1 }, {}] as VersionVector[]) {
      const decision = decide(makeChange({ entityId: 't1', operation: 'UPDATE', vector }), current);
      expect(decision).toMatchObject({ kind: 'skip', result: { status: 'conflict', record: current } });
    }
  });

  it('CREATE replaces the data and clears field clocks of absent fields', () => {
    const change = makeChange({ entityId: 't1', data: { order: 2 }, vector: { 'device-a': 2 } });
    const decision = decide(change, existing());
    expect(decision).toMatchObject({
      kind: 'write',
      record: { data: { order: 2 }, fieldHlcs: { order: change.hlc }, version: 2, vector: { 'device-a': 2 } },
    });
  });

  it('UPDATE on a tombstone patches onto an empty record and merges vectors', () => {
    const tombstone = existing({ data: null, deleted: true, vector: { 'device-b': 3 } });
    const change = makeChange({
      entityId: 't1',
      operation: 'UPDATE',
      data: { title: 'back' },
      vector: { 'device-a': 1, 'device-b': 3 },
    });
    const decision = decide(change, tombstone);
    expect(decision).toMatchObject({
      kind: 'write',
      record: { data: { title: 'back' }, deleted: false, version: 2, vector: { 'device-a': 1, 'device-b': 3 } },
    });
  });

  it('DELETE keeps field clocks and writes a tombstone', () => {
    const current = existing();
    const decision = decide(makeChange({ entityId: 't1', operation: 'DELETE', vector: { 'device-a': 2 } }), current);
    expect(decision).toMatchObject({
      kind: 'write',
      record: { data: null, deleted: true, fieldHlcs: current.fieldHlcs },
    });
  });

  it('keeps the client stamp within the drift bound and re-stamps beyond it', () => {
    const ctx = context();
    const near = makeChange({ entityId: 't1', timestamp: T0 + 60_000 });
    expect(decide(near, null, ctx)).toMatchObject({ record: { hlc: near.hlc } });
    const farWall = T0 + 10 * 60_000;
    const far = makeChange({ entityId: 't2', hlc: encodeHlc({ wallTime: farWall, counter: 0, node: 'device-a' }) });
    const decision = decide(far, null, ctx);
    // Receiving `near` moved the server clock to (T0+60s, 1); its next own stamp sorts after.
    expect(decision).toMatchObject({
      record: { hlc: encodeHlc({ wallTime: T0 + 60_000, counter: 2, node: 'server' }) },
    });
  });

  it('lets an arbiter turn a conflict into a write, logged under the pushed id', () => {
    const current = existing({ vector: { 'device-b': 1 } });
    const change = makeChange({
      entityId: 't1',
      operation: 'UPDATE',
      data: { title: 'mine' },
      vector: { 'device-a': 1 },
    });
    const merge: ConflictArbiter = ({ change: pushed, current: now }) => ({
      ...pushed,
      id: 'arbiter-id',
      vector: { ...now.vector, ...pushed.vector, server: 1 },
    });
    const decision = decide(change, current, context({ arbitrate: merge }));
    expect(decision).toMatchObject({ kind: 'write', change: { id: change.id }, record: { changeId: change.id } });
    const weak: ConflictArbiter = ({ change: pushed }) => pushed;
    expect(decide(change, current, context({ arbitrate: weak }))).toMatchObject({ result: { status: 'conflict' } });
  });
});
