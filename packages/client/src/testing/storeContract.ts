/**
 * The contract every local store driver must pass. Runner-agnostic: pass Vitest's or Jest's
 * `describe`/`it`/`expect`, and a factory that opens a driver on a database; calling it
 * again with the same `name` must reopen the same database (that is how restarts are tested).
 *
 * @example
 * runStoreContract('better-sqlite3', { describe, it, expect, beforeEach, afterEach },
 *   async (name) => createBetterSqliteDriver(join(dir, `${name}.db`)));
 */
import { HybridLogicalClock } from '@ferry/protocol';
import { SyncError } from '../errors.js';
import { LocalStore } from '../store/LocalStore.js';
import type { SqlDriver } from '../store/SqlDriver.js';
import { ChangeTracker } from '../tracking/ChangeTracker.js';

// Minimal structural types of a test runner, so neither Vitest nor Jest is imported here.
type Fn = () => void | Promise<void>;
interface Matchers {
  toBe(value: unknown): void;
  toEqual(value: unknown): void;
  toBeNull(): void;
  toHaveLength(length: number): void;
  toBeInstanceOf(type: unknown): void;
  toMatchObject(value: object): void;
  not: Matchers;
  rejects: { toThrow(message?: unknown): Promise<void>; toBeInstanceOf(type: unknown): Promise<void> };
}
export interface TestRunner {
  describe(name: string, fn: Fn): void;
  it(name: string, fn: Fn): void;
  expect(value: unknown): Matchers;
  beforeEach(fn: Fn): void;
  afterEach(fn: Fn): void;
}

/** Opens a driver on the database called `name` (same name → same database). */
export type OpenDriver = (name: string) => Promise<SqlDriver>;

export function runStoreContract(label: string, t: TestRunner, openDriver: OpenDriver): void {
  const { describe, it, expect, afterEach } = t;

  describe(`store contract: ${label}`, () => {
    const open: LocalStore[] = [];
    let counter = 0;
    const fresh = async (name = `db${++counter}-${Math.random().toString(36).slice(2)}`) => {
      const store = await LocalStore.open(await openDriver(name));
      open.push(store);
      return { store, name };
    };
    const tracker = (store: LocalStore, clientId = 'device-a') =>
      new ChangeTracker(store, clientId, { clock: new HybridLogicalClock(clientId, { now: () => 1_700_000_000_000 }) });

    afterEach(async () => {
      for (const store of open.splice(0)) await store.close();
    });

    it('writes the entity and its outbox entry together', async () => {
      const { store } = await fresh();
      const change = await tracker(store).trackChange('todos', 't1', 'CREATE', { title: 'Milk', done: false });
      expect(await store.get('todos', 't1')).toEqual({ title: 'Milk', done: false, id: 't1' });
      const pending = await store.read((tx) => tx.pendingChanges(-1));
      expect(pending).toHaveLength(1);
      expect(pending[0]).toMatchObject({ id: change.id, operation: 'CREATE', data: { title: 'Milk', done: false } });
    });

    it('rolls back both when the transaction fails', async () => {
      const { store } = await fresh();
      const tr = tracker(store);
      await expect(
        store.write(async (tx) => {
          await tr.trackChangeIn(tx, 'todos', 't1', 'CREATE', { title: 'Milk' });
          throw new Error('app killed here');
        }),
      ).rejects.toThrow('app killed here');
      expect(await store.getEntity('todos', 't1')).toBeNull();
      expect(await store.countPending()).toBe(0);
    });

    it('counts versions per entity and increments the vector', async () => {
      const { store } = await fresh();
      const tr = tracker(store);
      await tr.trackChange('todos', 't1', 'CREATE', { title: 'a' });
      const second = await tr.trackChange('todos', 't1', 'UPDATE', { title: 'b' });
      expect(second.version).toBe(2);
      expect(second.vector).toEqual({ 'device-a': 2 });
      expect(second.data).toEqual({ title: 'b' });
      const third = await tr.trackChange('todos', 't1', 'DELETE', null);
      expect(third.version).toBe(3);
      expect(await store.get('todos', 't1')).toBeNull();
      expect((await store.getEntity('todos', 't1'))?.deleted).toBe(true);
    });

    it('keeps pending changes in order and removes synced ones', async () => {
      const { store } = await fresh();
      const tr = tracker(store);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await tr.trackChange('todos', `t${i}`, 'CREATE', { i })).id);
      expect((await tr.getPendingChanges()).map((c) => c.id)).toEqual(ids);
      await tr.markAsSynced([ids[1]!, ids[3]!]);
      await tr.markAsSynced('unknown-id');
      expect((await tr.getPendingChanges()).map((c) => c.id)).toEqual([ids[0], ids[2], ids[4]]);
    });

    it('serialises concurrent writers: no lost update, no interleaved transaction', async () => {
      const { store } = await fresh();
      const tr = tracker(store);
      await tr.trackChange('counters', 'c', 'CREATE', { n: 0 });
      await Promise.all(
        Array.from({ length: 40 }, (_, i) => tr.trackChange('counters', 'c', 'UPDATE', { [`f${i}`]: i })),
      );
      const entity = await store.getEntity('counters', 'c');
      expect(entity?.version).toBe(41);
      expect(Object.keys(entity?.data ?? {})).toHaveLength(41);
      expect(await store.countPending()).toBe(41);
    });

    it('survives a restart: outbox, entities and clock come back from the file', async () => {
      const { store, name } = await fresh();
      const clientId = 'device-r';
      const first = await new ChangeTracker(store, clientId).trackChange('todos', 't1', 'CREATE', { title: 'x' });
      await store.close();
      // The device clock went back an hour; the restored clock must still move forward.
      const reopened = await LocalStore.open(await openDriver(name));
      open.push(reopened);
      const clock = new HybridLogicalClock(clientId, { now: () => Date.now() - 3_600_000 });
      const tr = new ChangeTracker(reopened, clientId, { clock });
      expect((await tr.getPendingChanges()).map((c) => c.id)).toEqual([first.id]);
      const next = await tr.trackChange('todos', 't1', 'UPDATE', { title: 'y' });
      expect(next.hlc > first.hlc).toBe(true);
      expect(next.version).toBe(2);
    });

    it('rejects bad input with a clear error and changes nothing', async () => {
      const { store } = await fresh();
      const tr = tracker(store);
      await expect(tr.trackChange('bad type!', 't1', 'CREATE', { a: 1 })).rejects.toBeInstanceOf(SyncError);
      await expect(tr.trackChange('todos', '', 'CREATE', { a: 1 })).rejects.toThrow('entityId');
      await expect(tr.trackChange('todos', 't1', 'CREATE', { ['__proto__']: 1 } as never)).rejects.toThrow();
      await expect(tr.trackChange('todos', 't1', 'CREATE', { n: Number.NaN })).rejects.toThrow('finite');
      expect(await store.countPending()).toBe(0);
      expect(await store.getEntity('todos', 't1')).toBeNull();
    });

    it('finds by field equality with ordering and paging, skipping tombstones', async () => {
      const { store } = await fresh();
      const tr = tracker(store);
      for (let i = 0; i < 6; i++) await tr.trackChange('todos', `t${i}`, 'CREATE', { order: 5 - i, done: i % 2 === 0 });
      await tr.trackChange('todos', 't0', 'DELETE', null);
      const done = await store.find('todos', { where: { done: true }, orderBy: 'order' });
      expect(done.map((d) => d.id)).toEqual(['t4', 't2']);
      const page = await store.find('todos', { orderBy: 'order', order: 'desc', limit: 2, offset: 1 });
      expect(page.map((d) => d.id)).toEqual(['t2', 't3']);
      await expect(store.find('todos', { where: { "x') OR 1=1 --": 1 } })).rejects.toThrow('Invalid field name');
    });

    it('stores ids and values with SQL metacharacters literally', async () => {
      const { store } = await fresh();
      const id = "x'); DROP TABLE ferry_outbox; --";
      await tracker(store).trackChange('todos', id, 'CREATE', { title: "Robert'); --" });
      expect(await store.get('todos', id)).toEqual({ title: "Robert'); --", id });
      expect(await store.countPending()).toBe(1);
    });

    it('has a key-value store', async () => {
      const { store } = await fresh();
      expect(await store.kv.getItem('k')).toBeNull();
      await store.kv.setItem('k', 'v1');
      await store.kv.setItem('k', 'v2');
      expect(await store.kv.getItem('k')).toBe('v2');
      await store.kv.removeItem('k');
      expect(await store.kv.getItem('k')).toBeNull();
    });

    it('notifies subscribers after commit, never for a rollback', async () => {
      const { store } = await fresh();
      const events: string[][] = [];
      const unsubscribe = store.subscribe((event) => events.push([...event.entityTypes]));
      await tracker(store).trackChange('todos', 't1', 'CREATE', { a: 1 });
      await store
        .write(async (tx) => {
          await tx.putEntity({
            entityType: 'notes',
            entityId: 'n',
            data: {},
            deleted: false,
            version: 1,
            vector: {},
            hlc: '001700000000000-000000-x',
            fieldHlcs: {},
            serverVersion: 0,
          });
          throw new Error('rollback');
        })
        .catch(() => undefined);
      unsubscribe();
      await tracker(store).trackChange('todos', 't2', 'CREATE', { a: 1 });
      expect(events).toEqual([['todos']]);
    });

    it('fails clearly once closed', async () => {
      const { store } = await fresh();
      await store.close();
      await expect(store.get('todos', 'x')).rejects.toThrow('closed');
    });
  });
}
