import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeHlc, type RecordData, type ServerRecord, type VersionVector } from '@ferry/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBetterSqliteDriver } from '../drivers/better-sqlite3.js';
import { LocalStore } from '../store/LocalStore.js';
import { ChangeTracker } from '../tracking/ChangeTracker.js';
import { conflictTypeOf } from './ConflictDetector.js';
import { ConflictInbox } from './ConflictInbox.js';
import { applyResolution, applyServerRecord, differingFields } from './reconcile.js';

let dir: string;
let store: LocalStore;
let tracker: ChangeTracker;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-reconcile-'));
  store = await LocalStore.open(createBetterSqliteDriver(join(dir, 'app.db')));
  tracker = new ChangeTracker(store, 'dev-a');
});
afterEach(async () => {
  if (!store.closed) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
/** A record as the server would send it, written by `clientId` at `wallTime`. */
function record(id: string, vector: VersionVector, data: RecordData, wallTime: number): ServerRecord {
  const hlc = encodeHlc({ wallTime, counter: 0, node: 'dev-b' });
  seq++;
  return {
    entityType: 'todos',
    entityId: id,
    data,
    deleted: false,
    version: 1,
    vector,
    hlc,
    fieldHlcs: Object.fromEntries(Object.keys(data).map((field) => [field, hlc])),
    seq,
    clientId: 'dev-b',
    changeId: `dev-b:${seq}`,
  };
}

const apply = (r: ServerRecord) => store.write((tx) => applyServerRecord(tx, r, tracker.clock));
const vectorOf = async (id: string) => (await store.read((tx) => tx.getEntity('todos', id)))?.vector;

describe('own vector counters', () => {
  it('are never issued twice, even after adopting a record that lacks them (and across a restart)', async () => {
    await tracker.trackChange('todos', 't1', 'CREATE', { title: 'one' });
    await tracker.trackChange('todos', 't1', 'UPDATE', { title: 'two' });
    await tracker.markAsSynced((await tracker.getPendingChanges()).map((change) => change.id));
    // History compaction made the server forget dev-a's part; a concurrent re-create won.
    expect(await apply(record('t1', { 'dev-b': 1 }, { title: 'recreated' }, Date.now()))).toBeNull();
    expect(await vectorOf('t1')).toEqual({ 'dev-b': 1 });

    const next = await tracker.trackChange('todos', 't1', 'UPDATE', { title: 'three' });
    // Counting on from the adopted vector would reissue dev-a: 1, which other devices remember.
    expect(next.vector).toEqual({ 'dev-b': 1, 'dev-a': 3 });

    await store.close();
    store = await LocalStore.open(createBetterSqliteDriver(join(dir, 'app.db')));
    tracker = new ChangeTracker(store, 'dev-a');
    const other = await tracker.trackChange('todos', 't2', 'CREATE', { title: 'elsewhere' });
    expect(other.vector['dev-a']).toBeGreaterThan(2);
  });

  it('stay plain per-entity counters while nothing is dropped', async () => {
    await tracker.trackChange('todos', 't1', 'CREATE', { title: 'one' });
    const second = await tracker.trackChange('todos', 't2', 'CREATE', { title: 'two' });
    const again = await tracker.trackChange('todos', 't1', 'UPDATE', { title: 'one again' });
    expect(second.vector).toEqual({ 'dev-a': 1 });
    expect(again.vector).toEqual({ 'dev-a': 2 });
  });
});

describe('a parked conflict', () => {
  /** t1 edited here and concurrently on dev-b; the conflict is parked (the `manual` strategy deferred). */
  async function park() {
    await tracker.trackChange('todos', 't1', 'CREATE', { title: 'mine' });
    const theirs = record('t1', { 'dev-b': 1 }, { title: 'theirs' }, Date.now());
    const conflict = await apply(theirs);
    expect(conflict).not.toBeNull();
    const outcome = await store.write((tx) =>
      applyResolution(tx, tracker, conflict!, {
        winner: 'deferred',
        resolvedData: null,
        deleted: false,
        strategy: 'manual',
      }),
    );
    expect(outcome).toBe('parked');
    return theirs;
  }
  const parkedRows = () => store.read(async (tx) => (await tx.execute('SELECT id FROM ferry_conflicts')).rows.length);

  it('holds a later write of its entity with the parked changes, so it is not pushed before the decision', async () => {
    await park();
    await tracker.trackChange('todos', 't1', 'UPDATE', { title: 'mine, edited' });
    await tracker.trackChange('todos', 't2', 'CREATE', { title: 'unrelated' });
    expect((await tracker.getPendingChanges()).map((change) => change.entityId)).toEqual(['t2']);
    expect(await store.countPending()).toBe(3);
  });

  it('takes a newer concurrent server state in the same transaction as the pull page', async () => {
    await park();
    const newer = record('t1', { 'dev-b': 2 }, { title: 'theirs, edited' }, Date.now() + 1);
    // Concurrent with the held change: reported again, and already recorded in the inbox, so an
    // app killed before the resolver runs does not leave the older server state parked.
    expect(await apply(newer)).not.toBeNull();
    const parked = await store.read(async (tx) => (await tx.execute('SELECT conflict FROM ferry_conflicts')).rows);
    expect(parked.map((row) => JSON.parse(String(row.conflict)).record.data)).toEqual([{ title: 'theirs, edited' }]);
  });

  it('decided for the server, keeps the device state when that has passed the parked server state', async () => {
    const theirs = await park();
    // A row parked by an older app version, never refreshed: its server side is one this
    // device has since taken in (dominated by the local vector).
    const outdated = { ...theirs, vector: {}, data: { title: 'long gone' } };
    await store.write((tx) =>
      tx.execute('UPDATE ferry_conflicts SET conflict = ?', [JSON.stringify({ info: {}, record: outdated })]),
    );
    const inbox = new ConflictInbox(tracker);
    const [parked] = await inbox.list();
    await inbox.resolve(parked!.id, { winner: 'server' });
    expect(await store.find('todos')).toEqual([{ id: 't1', title: 'mine' }]);
    expect(await parkedRows()).toBe(0);
    expect((await tracker.getPendingChanges()).map((change) => change.entityId)).toEqual(['t1']);
  });

  it('ends when a server record arrives that has seen everything the device has', async () => {
    const theirs = await park();
    const local = await vectorOf('t1');
    const settled = record('t1', { ...local, 'dev-b': 2 }, { title: 'settled elsewhere' }, Date.now() + 1);
    expect(theirs.vector['dev-b']).toBe(1);
    expect(await apply(settled)).toBeNull();
    expect(await parkedRows()).toBe(0);
    // The held change flows again, to settle as a duplicate or as covered by the server's state.
    expect((await tracker.getPendingChanges()).map((change) => change.entityId)).toEqual(['t1']);
    expect(await store.find('todos')).toEqual([{ id: 't1', title: 'settled elsewhere' }]);
  });
});

describe('conflict decisions compare values as JSON, key order aside', () => {
  it('differingFields sees no difference between objects written with keys in another order', () => {
    const local = { title: 'same', meta: { a: 1, b: { x: [1, { y: 2, z: 3 }] } } };
    const server = { meta: { b: { x: [1, { z: 3, y: 2 }] }, a: 1 }, title: 'same' };
    expect(differingFields(local, server)).toEqual([]);
    expect(differingFields(local, { ...server, meta: { a: 2, b: {} } })).toEqual(['meta']);
  });

  it('conflictTypeOf names who deleted, the same for the detector, the pull and the inbox', () => {
    expect([conflictTypeOf(false, false), conflictTypeOf(false, true), conflictTypeOf(true, false)]).toEqual([
      'update-update',
      'update-delete',
      'delete-update',
    ]);
  });
});
