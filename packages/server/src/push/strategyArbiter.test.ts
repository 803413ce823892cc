import { type Change, encodeHlc, HybridLogicalClock, type ServerRecord } from '@ferry/protocol';
import { describe, expect, it } from 'vitest';
import { SchemaError } from '../errors.js';
import { parseSchema } from '../schema/parseSchema.js';
import { makeChange, T0 } from '../testing/testServer.js';
import { type DecideContext, decideChange } from './decideChange.js';
import { createStrategyArbiter, parseConflictStrategies } from './strategyArbiter.js';

const schema = parseSchema({ entities: { todos: { fields: { title: 'string', completed: 'boolean' } }, notes: {} } });
const at = (ms: number, node: string) => encodeHlc({ wallTime: T0 + ms, counter: 0, node });

// The server holds device-b's write at T0+20 (title and completed); device-a pushes a stale UPDATE.
function current(overrides: Partial<ServerRecord> = {}): ServerRecord {
  return {
    entityType: 'todos',
    entityId: 't1',
    data: { title: 'from b', completed: true },
    deleted: false,
    version: 2,
    vector: { 'device-a': 1, 'device-b': 1 },
    hlc: at(20, 'device-b'),
    fieldHlcs: { title: at(20, 'device-b'), completed: at(0, 'device-a') },
    seq: 2,
    clientId: 'device-b',
    changeId: 'c-b',
    ...overrides,
  };
}

function pushed(ms: number, overrides: Partial<Change> = {}): Change {
  return makeChange({
    entityId: 't1',
    operation: 'UPDATE',
    data: { title: 'from a' },
    timestamp: T0 + ms,
    hlc: at(ms, 'device-a'),
    version: 2,
    vector: { 'device-a': 2 },
    ...overrides,
  });
}

function decide(strategy: string, change: Change, record = current()) {
  const context: DecideContext = {
    schema,
    clock: new HybridLogicalClock('server', { now: () => T0 + 1000 }),
    arbitrate: createStrategyArbiter(parseConflictStrategies({ todos: strategy }, schema)),
  };
  return decideChange({ change, current: record, alreadyApplied: false }, context);
}

describe('server arbitration by strategy', () => {
  it.each([
    ['last-write-wins', 30, { title: 'from a', completed: true }],
    ['last-write-wins', 10, { title: 'from b', completed: true }],
    ['first-write-wins', 10, { title: 'from a', completed: true }],
    ['first-write-wins', 30, { title: 'from b', completed: true }],
    ['client-wins', 10, { title: 'from a', completed: true }],
    ['merge', 30, { title: 'from a', completed: true }],
    ['merge', 10, { title: 'from b', completed: true }],
  ])('%s with the push at T0+%i writes %j under a vector that dominates both', (strategy, ms, data) => {
    const change = pushed(ms);
    const decision = decide(strategy, change);
    expect(decision).toMatchObject({
      kind: 'write',
      change: { id: change.id, clientId: 'device-a', operation: 'CREATE' },
      record: { data, deleted: false, vector: { 'device-a': 2, 'device-b': 1 }, version: 3 },
    });
  });

  it('server-wins reports the conflict with the current record', () => {
    expect(decide('server-wins', pushed(30))).toMatchObject({
      kind: 'skip',
      result: { status: 'conflict', record: current() },
    });
  });

  it('merge keeps the stamps of the fields each side wrote', () => {
    const decision = decide('merge', pushed(10, { data: { completed: false } }));
    expect(decision).toMatchObject({
      record: {
        data: { title: 'from b', completed: false },
        fieldHlcs: { title: at(20, 'device-b'), completed: at(10, 'device-a') },
      },
    });
  });

  it('a later delete wins; an UPDATE that would revive a deleted record is left to the device', () => {
    const lateDelete = pushed(30, { operation: 'DELETE', data: null });
    expect(decide('last-write-wins', lateDelete)).toMatchObject({ record: { deleted: true, data: null } });
    const tombstone = current({ data: null, deleted: true, hlc: at(20, 'device-b') });
    expect(decide('last-write-wins', pushed(30), tombstone)).toMatchObject({ result: { status: 'conflict' } });
    expect(decide('first-write-wins', pushed(30), tombstone)).toMatchObject({ record: { deleted: true } });
  });

  it('does not let a far-future device clock win last-write-wins', () => {
    const future = pushed(3_600_000);
    const decision = decide('last-write-wins', future);
    // Re-stamped to the server's clock (T0+1000), the push is still later than T0+20 and wins,
    // but its stamp and field stamps no longer sit an hour ahead.
    expect(decision).toMatchObject({ record: { data: { title: 'from a' } } });
    if (decision.kind !== 'write') throw new Error('expected a write');
    expect(decision.record.hlc < at(2000, 'server')).toBe(true);
    expect(Object.values(decision.record.fieldHlcs).every((stamp) => stamp <= decision.record.hlc)).toBe(true);
  });

  it('leaves types without a strategy to the fallback', () => {
    const arbiter = createStrategyArbiter({ todos: 'merge' });
    const note = { change: pushed(30, { entityType: 'notes' }), current: current({ entityType: 'notes' }) };
    expect(arbiter(note)).toBeNull();
  });
});

describe('a pushed change’s own field stamps', () => {
  it('are kept, unless later than the record’s stamp', () => {
    const context: DecideContext = { schema, clock: new HybridLogicalClock('server', { now: () => T0 + 1000 }) };
    const change = makeChange({
      entityId: 't9',
      data: { title: 'x', completed: false },
      hlc: at(50, 'device-a'),
      fieldHlcs: { title: at(40, 'device-b'), completed: at(60, 'device-a') },
    });
    const decision = decideChange({ change, current: null, alreadyApplied: false }, context);
    expect(decision).toMatchObject({
      record: { fieldHlcs: { title: at(40, 'device-b'), completed: at(50, 'device-a') } },
    });
  });
});

describe('parseConflictStrategies', () => {
  it('refuses manual, unknown names and undeclared types, naming the problem', () => {
    expect(() => parseConflictStrategies({ todos: 'manual' }, schema)).toThrow(SchemaError);
    expect(() => parseConflictStrategies({ todos: 'newest' }, schema)).toThrow(/"newest" for "todos"/);
    expect(() => parseConflictStrategies({ invoices: 'merge' }, schema)).toThrow(/does not declare/);
    expect(() => parseConflictStrategies(['merge'], schema)).toThrow(/must be an object/);
    expect(parseConflictStrategies({ notes: 'merge' }, schema)).toEqual({ notes: 'merge' });
  });
});
