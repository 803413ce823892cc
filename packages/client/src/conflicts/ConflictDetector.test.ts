import { type Change, encodeHlc, type ServerRecord } from '@ferry/protocol';
import { describe, expect, it } from 'vitest';
import { ConflictDetector } from './ConflictDetector.js';
import { foldChanges } from './foldChanges.js';
import { stateFromRecord } from './stateFromRecord.js';
import type { VersionedEntity } from './types.js';

const h = (wallTime: number, node: string, counter = 0) => encodeHlc({ wallTime, counter, node });

let seq = 0;
function change(
  operation: Change['operation'],
  data: Change['data'],
  at: number,
  overrides: Partial<Change> = {},
): Change {
  seq += 1;
  return {
    id: `change-${seq}`,
    entityType: 'todos',
    entityId: 'todo-1',
    operation,
    data,
    timestamp: at,
    hlc: h(at, 'device-a'),
    version: 1,
    vector: { 'device-a': 1 },
    clientId: 'device-a',
    ...overrides,
  };
}

function record(data: ServerRecord['data'], at: number, overrides: Partial<ServerRecord> = {}): ServerRecord {
  return {
    entityType: 'todos',
    entityId: 'todo-1',
    data,
    deleted: data === null,
    version: 3,
    vector: { 'device-b': 2 },
    hlc: h(at, 'device-b'),
    fieldHlcs: Object.fromEntries(Object.keys(data ?? {}).map((field) => [field, h(at, 'device-b')])),
    seq: 7,
    clientId: 'device-b',
    changeId: 'b-1',
    ...overrides,
  };
}

const detector = new ConflictDetector();

describe('ConflictDetector', () => {
  it('reports an update-update conflict with the fields whose values differ', () => {
    const local = change('CREATE', { title: 'Local', done: false, tags: { a: 1, b: 2 } }, 100);
    const server = change('CREATE', { title: 'Server', done: false, tags: { b: 2, a: 1 }, note: 'x' }, 200, {
      clientId: 'device-b',
      vector: { 'device-b': 1 },
    });
    const [conflict, ...rest] = detector.detectConflicts([local], [server]);
    expect(rest).toEqual([]);
    expect(conflict).toEqual({
      entityType: 'todos',
      entityId: 'todo-1',
      localVersion: local,
      serverVersion: server,
      conflictType: 'update-update',
      // Key order inside `tags` does not make a difference; a field one whole record lacks does.
      conflictingFields: ['title', 'note'],
    });
  });

  it('counts only the fields an UPDATE patch wrote', () => {
    const local = change('UPDATE', { done: true }, 100);
    const conflict = detector.detectConflict(local, stateFromRecord(record({ title: 'T', done: false }, 200)));
    expect(conflict?.conflictingFields).toEqual(['done']);
  });

  it('names update-delete and delete-update from the local point of view', () => {
    const update = change('UPDATE', { title: 'L' }, 100);
    const deleted = stateFromRecord(record(null, 200));
    expect(detector.detectConflict(update, deleted)).toMatchObject({
      conflictType: 'update-delete',
      conflictingFields: [],
    });
    const localDelete = change('DELETE', null, 100);
    const serverUpdate = stateFromRecord(record({ title: 'S' }, 200));
    expect(detector.detectConflict(localDelete, serverUpdate)?.conflictType).toBe('delete-update');
  });

  it('does not report two deletes', () => {
    expect(detector.detectConflicts([change('DELETE', null, 100)], [stateFromRecord(record(null, 200))])).toEqual([]);
  });

  it('does not report the same write seen on both sides', () => {
    const mine = change('UPDATE', { title: 'L' }, 100);
    expect(detector.detectConflict(mine, { ...mine, vector: { 'device-a': 1, 'device-b': 9 } })).toBeNull();
  });

  it('with version vectors, reports only concurrent edits', () => {
    const local = change('UPDATE', { title: 'L' }, 100, { vector: { 'device-a': 2, 'device-b': 1 } });
    const server = (vector: Record<string, number>) => stateFromRecord(record({ title: 'S' }, 200, { vector }));
    // The server has not seen our edit, we have not seen its: a real conflict.
    expect(detector.detectConflict(local, server({ 'device-a': 1, 'device-b': 2 }))).not.toBeNull();
    // The server's copy is one we already built on: stale, not a conflict.
    expect(detector.detectConflict(local, server({ 'device-a': 1, 'device-b': 1 }))).toBeNull();
    // The server already holds our edit and more: we are the stale side.
    expect(detector.detectConflict(local, server({ 'device-a': 2, 'device-b': 2 }))).toBeNull();
    expect(detector.detectConflict(local, server({ 'device-a': 2, 'device-b': 1 }))).toBeNull();
  });

  it('without vectors on both sides, reports any overlapping edit (the plain field-overlap rule)', () => {
    const { vector: _, ...local } = change('UPDATE', { title: 'L' }, 100);
    expect(detector.detectConflict(local, stateFromRecord(record({ title: 'S' }, 200)))).not.toBeNull();
  });

  it('matches by entity type and id, and ignores entities only one side touched', () => {
    const local = [
      change('UPDATE', { title: 'a' }, 100, { entityId: 'a' }),
      change('UPDATE', { title: 'b' }, 100, { entityId: 'b' }),
      change('UPDATE', { title: 'c' }, 100, { entityType: 'notes', entityId: 'c' }),
    ];
    const server = [
      stateFromRecord(record({ title: 'B' }, 200, { entityId: 'b' })),
      stateFromRecord(record({ title: 'C' }, 200, { entityType: 'todos', entityId: 'c' })),
      stateFromRecord(record({ title: 'Z' }, 200, { entityId: 'z' })),
    ];
    expect(detector.detectConflicts(local, server).map((c) => `${c.entityType}/${c.entityId}`)).toEqual(['todos/b']);
  });

  it('folds several pending changes of one entity into one conflict', () => {
    const local = [
      change('CREATE', { title: 'first', done: false }, 100),
      change('UPDATE', { done: true }, 110, { vector: { 'device-a': 2 } }),
      change('UPDATE', { title: 'second' }, 120, { vector: { 'device-a': 3 } }),
    ];
    const conflicts = detector.detectConflicts(local, [stateFromRecord(record({ title: 'S', done: false }, 115))]);
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]?.localVersion).toMatchObject({
      data: { title: 'second', done: true },
      deleted: false,
      hlc: h(120, 'device-a'),
      vector: { 'device-a': 3 },
      fieldHlcs: { title: h(120, 'device-a'), done: h(110, 'device-a') },
    });
    expect(conflicts[0]?.conflictingFields).toEqual(['title', 'done']);
  });

  it('refuses to compare two different entities', () => {
    const local = change('UPDATE', { title: 'L' }, 100);
    expect(() => detector.detectConflict(local, { ...local, entityId: 'other' })).toThrow(/two states of one entity/);
  });
});

describe('foldChanges', () => {
  it('keeps a patch a patch, and a whole record whole', () => {
    const patches = foldChanges([change('UPDATE', { a: 1 }, 1), change('UPDATE', { b: 2 }, 2)]);
    expect(patches).toMatchObject({ data: { a: 1, b: 2 }, operation: 'UPDATE' });
    const whole = foldChanges([change('CREATE', { a: 1 }, 1), change('UPDATE', { b: 2 }, 2)]);
    expect(whole.data).toEqual({ a: 1, b: 2 });
    expect(whole.operation).toBeUndefined();
  });

  it('lets a delete wipe what came before and a later create start afresh', () => {
    const deleted = foldChanges([change('CREATE', { a: 1 }, 1), change('DELETE', null, 2)]);
    expect(deleted).toMatchObject({ data: null, deleted: true, operation: 'DELETE', hlc: h(2, 'device-a') });
    expect(deleted.fieldHlcs).toBeUndefined();
    const recreated = foldChanges([
      change('CREATE', { a: 1 }, 1),
      change('DELETE', null, 2),
      change('CREATE', { b: 2 }, 3),
    ]);
    expect(recreated).toMatchObject({ data: { b: 2 }, deleted: false, fieldHlcs: { b: h(3, 'device-a') } });
  });

  it('gives no field stamps when a folded write had no hlc', () => {
    const unstamped: VersionedEntity = {
      entityType: 'todos',
      entityId: 'todo-1',
      data: { b: 2 },
      timestamp: 2,
      operation: 'UPDATE',
    };
    expect(foldChanges([change('CREATE', { a: 1 }, 1), unstamped]).fieldHlcs).toBeUndefined();
  });

  it('folds one entity at a time', () => {
    expect(() =>
      foldChanges([change('CREATE', { a: 1 }, 1), change('UPDATE', { a: 2 }, 2, { entityId: 'x' })]),
    ).toThrow(/one entity at a time/);
  });
});

describe('stateFromRecord', () => {
  it('takes the timestamp from the record’s hlc and keeps its clocks', () => {
    const state = stateFromRecord(record({ title: 'S' }, 1_732_550_000_000));
    expect(state).toEqual({
      entityType: 'todos',
      entityId: 'todo-1',
      data: { title: 'S' },
      deleted: false,
      hlc: h(1_732_550_000_000, 'device-b'),
      timestamp: 1_732_550_000_000,
      vector: { 'device-b': 2 },
      fieldHlcs: { title: h(1_732_550_000_000, 'device-b') },
      clientId: 'device-b',
    });
  });
});
