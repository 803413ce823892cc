import { type Change, encodeHlc, HybridLogicalClock } from '@ferry/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DecideContext, decideChange } from '../push/decideChange.js';
import { parseSchema } from '../schema/parseSchema.js';
import type { ChangeDecider, ServerStorage } from './ServerStorage.js';
import { type MakeTimedStorage, runHistoryContract } from './storageContractHistory.js';
import { runSpacesContract } from './storageContractSpaces.js';

const T0 = 1_732_550_000_000;

let counter = 0;
/** A valid change from `clientId`; the vector defaults to a first write by that client. */
function change(overrides: Partial<Change> & Pick<Change, 'entityId'>): Change {
  counter += 1;
  const clientId = overrides.clientId ?? 'device-a';
  const operation = overrides.operation ?? 'CREATE';
  return {
    id: `c-${counter}`,
    entityType: 'todos',
    operation,
    data: operation === 'DELETE' ? null : { title: `todo ${counter}` },
    timestamp: T0 + counter,
    hlc: encodeHlc({ wallTime: T0 + counter, counter: 0, node: clientId }),
    version: 1,
    vector: { [clientId]: 1 },
    clientId,
    ...overrides,
  };
}

/**
 * The contract every {@link ServerStorage} backend must pass, run with the shared apply
 * decision: apply, dedupe, conflict, tombstones, atomic pushes, pull paging, gap-free
 * sequences, scope isolation, then compaction and commit notifications. `makeStorage` returns
 * a fresh, empty storage per test whose write stamps come from `now`.
 *
 * @example
 * runStorageContract('SqliteStorage', ({ now }) => new SqliteStorage(join(dir, 'test.db'), { now }));
 */
export function runStorageContract(name: string, makeStorage: MakeTimedStorage): void {
  runHistoryContract(name, makeStorage);
  runSpacesContract(name, makeStorage);
  describe(`ServerStorage contract: ${name}`, () => {
    let storage: ServerStorage;
    let decide: ChangeDecider;

    beforeEach(async () => {
      storage = await makeStorage({ now: Date.now });
      const context: DecideContext = {
        schema: parseSchema({ entities: { todos: { fields: { title: 'string', done: 'boolean' } }, notes: {} } }),
        clock: new HybridLogicalClock('server', { now: () => T0 + 60_000 }),
      };
      decide = (input) => decideChange(input, context);
    });

    afterEach(async () => {
      await storage.close();
    });

    it('applies a create and returns the record with seq 1', async () => {
      const outcome = await storage.applyChanges(
        'alice',
        [change({ entityId: 't1', data: { title: 'milk' } })],
        decide,
      );
      expect(outcome.cursor).toBe(1);
      expect(outcome.results[0]).toMatchObject({ status: 'applied', record: { entityId: 't1', seq: 1, version: 1 } });
      expect(await storage.getRecord('alice', 'todos', 't1')).toMatchObject({ data: { title: 'milk' }, seq: 1 });
    });

    it('dedupes a change id pushed twice: one write, one log entry', async () => {
      const once = change({ entityId: 't1' });
      await storage.applyChanges('alice', [once], decide);
      const again = await storage.applyChanges('alice', [once], decide);
      expect(again.results[0]).toMatchObject({ status: 'duplicate', record: { seq: 1 } });
      expect(again.cursor).toBe(1);
      expect((await storage.changesSince('alice', { since: 0, limit: 10 })).items).toHaveLength(1);
    });

    it('reports a stale vector as a conflict and keeps the current record', async () => {
      await storage.applyChanges(
        'alice',
        [change({ entityId: 't1', vector: { a: 2 }, data: { title: 'new' } })],
        decide,
      );
      const stale = await storage.applyChanges(
        'alice',
        [change({ entityId: 't1', operation: 'UPDATE', vector: { a: 1 }, data: { title: 'old' } })],
        decide,
      );
      expect(stale.results[0]).toMatchObject({ status: 'conflict', record: { data: { title: 'new' } } });
      expect(stale.cursor).toBe(1);
    });

    it('tombstones a delete, and pull returns the tombstone', async () => {
      await storage.applyChanges('alice', [change({ entityId: 't1' })], decide);
      await storage.applyChanges(
        'alice',
        [change({ entityId: 't1', operation: 'DELETE', vector: { 'device-a': 2 } })],
        decide,
      );
      const page = await storage.pull('alice', { cursor: 0, limit: 10 });
      expect(page.items).toEqual([expect.objectContaining({ entityId: 't1', deleted: true, data: null, seq: 2 })]);
      expect((await storage.listRecords('alice', 'todos', { limit: 10 })).items).toEqual([]);
    });

    it('keeps nothing of a push whose decision throws midway', async () => {
      const first = change({ entityId: 't1' });
      const failing: ChangeDecider = (input) => {
        if (input.change.entityId === 't2') throw new Error('boom');
        return decide(input);
      };
      await expect(storage.applyChanges('alice', [first, change({ entityId: 't2' })], failing)).rejects.toThrow('boom');
      expect(await storage.getRecord('alice', 'todos', 't1')).toBeNull();
      expect(await storage.currentSeq('alice')).toBe(0);
      // The change was not logged, so it applies when pushed again.
      const retry = await storage.applyChanges('alice', [first], decide);
      expect(retry.results[0]?.status).toBe('applied');
    });

    it('applies pushes that arrive together each as if alone: gap-free per scope, a failure touches no other push', async () => {
      // Arriving in one turn of the event loop, these share one group commit on SQLite.
      const failing: ChangeDecider = (input) => {
        if (input.change.entityId === 'x2') throw new Error('boom');
        return decide(input);
      };
      const settled = await Promise.allSettled([
        storage.applyChanges('alice', [change({ entityId: 'a1' }), change({ entityId: 'a2' })], decide),
        storage.applyChanges('bob', [change({ entityId: 'x1' }), change({ entityId: 'x2' })], failing),
        storage.applyChanges(
          'carol',
          [change({ entityId: 'c1' }), change({ entityId: 'c2', data: { title: 42 } }), change({ entityId: 'c3' })],
          decide,
        ),
        storage.applyChanges('alice', [change({ entityId: 'a3' })], decide),
        storage.applyChanges('bob', [change({ entityId: 'b1' })], decide),
      ]);
      expect(settled.map((result) => result.status)).toEqual([
        'fulfilled',
        'rejected',
        'fulfilled',
        'fulfilled',
        'fulfilled',
      ]);
      const [alice1, , carol, alice2, bob] = settled.map((result) =>
        result.status === 'fulfilled' ? result.value : null,
      );
      expect(carol?.results.map((result) => result.status)).toEqual(['applied', 'rejected', 'applied']);
      expect(carol?.cursor).toBe(2);
      // The failed push kept nothing, and bob's other push numbers from 1 as if it never ran.
      expect(await storage.getRecord('bob', 'todos', 'x1')).toBeNull();
      expect(bob?.results[0]).toMatchObject({ status: 'applied', record: { entityId: 'b1', seq: 1 } });
      expect(await storage.currentSeq('bob')).toBe(1);
      // Alice's two pushes took seqs 1-3 between them, in the order they committed.
      const aliceLog = (await storage.changesSince('alice', { since: 0, limit: 10 })).items;
      expect(aliceLog.map((entry) => entry.seq)).toEqual([1, 2, 3]);
      expect(Math.max(alice1?.cursor ?? 0, alice2?.cursor ?? 0)).toBe(3);
      for (const outcome of [alice1, alice2]) {
        for (const result of outcome?.results ?? []) {
          const logged = aliceLog.find((entry) => entry.id === result.changeId);
          expect(result).toMatchObject({ status: 'applied', record: { seq: logged?.seq } });
        }
      }
    });

    it('sees earlier changes of the same push', async () => {
      const create = change({ entityId: 't1', data: { title: 'a' } });
      const update = change({
        entityId: 't1',
        operation: 'UPDATE',
        data: { done: true },
        vector: { 'device-a': 2 },
      });
      const outcome = await storage.applyChanges('alice', [create, update, create], decide);
      expect(outcome.results.map((result) => result.status)).toEqual(['applied', 'applied', 'duplicate']);
      expect(await storage.getRecord('alice', 'todos', 't1')).toMatchObject({
        data: { title: 'a', done: true },
        version: 2,
        seq: 2,
      });
    });

    it('pages a pull in seq order, each record once, and hasMore only while more exist', async () => {
      for (let i = 0; i < 10; i += 1) {
        await storage.applyChanges('alice', [change({ entityId: `t${i}` })], decide);
      }
      // Moving t0 to the end: its latest state is pulled once, at its new seq.
      await storage.applyChanges(
        'alice',
        [change({ entityId: 't0', operation: 'UPDATE', data: { done: true }, vector: { 'device-a': 2 } })],
        decide,
      );
      const seen: string[] = [];
      const seqs: number[] = [];
      let cursor = 0;
      let pages = 0;
      for (;;) {
        const page = await storage.pull('alice', { cursor, limit: 3 });
        pages += 1;
        seen.push(...page.items.map((record) => record.entityId));
        seqs.push(...page.items.map((record) => record.seq));
        cursor = page.items.at(-1)?.seq ?? cursor;
        if (!page.hasMore) break;
      }
      expect(pages).toBe(4);
      expect(seen).toEqual(['t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8', 't9', 't0']);
      expect(seqs).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    });

    it('filters a pull by entity type', async () => {
      await storage.applyChanges(
        'alice',
        [change({ entityId: 'n1', entityType: 'notes' }), change({ entityId: 't1' })],
        decide,
      );
      const page = await storage.pull('alice', { cursor: 0, limit: 10, types: ['notes'] });
      expect(page.items.map((record) => record.entityId)).toEqual(['n1']);
    });

    it('numbers each scope gap-free from 1, one seq per applied change', async () => {
      const outcome = await storage.applyChanges(
        'alice',
        [change({ entityId: 't1' }), change({ entityId: 't2', data: { title: 42 } }), change({ entityId: 't3' })],
        decide,
      );
      expect(outcome.results.map((result) => result.status)).toEqual(['applied', 'rejected', 'applied']);
      const log = await storage.changesSince('alice', { since: 0, limit: 10 });
      expect(log.items.map((entry) => entry.seq)).toEqual([1, 2]);
      expect(log.items.map((entry) => entry.entityId)).toEqual(['t1', 't3']);
      await storage.applyChanges('bob', [change({ entityId: 't1' })], decide);
      expect(await storage.currentSeq('bob')).toBe(1);
      expect(await storage.currentSeq('alice')).toBe(2);
    });

    it('isolates scopes: the same ids in two scopes are two entities', async () => {
      const shared = change({ entityId: 't1', data: { title: 'alice' } });
      await storage.applyChanges('alice', [shared], decide);
      // Same change id and entity id from bob: not a duplicate of alice's, and alice's row is untouched.
      const bob = await storage.applyChanges('bob', [{ ...shared, data: { title: 'bob' } }], decide);
      expect(bob.results[0]?.status).toBe('applied');
      expect(await storage.getRecord('alice', 'todos', 't1')).toMatchObject({ data: { title: 'alice' } });
      expect(await storage.getRecord('bob', 'todos', 't1')).toMatchObject({ data: { title: 'bob' } });
      expect((await storage.pull('bob', { cursor: 0, limit: 10 })).items).toHaveLength(1);
      expect((await storage.changesSince('bob', { since: 0, limit: 10 })).items).toHaveLength(1);
      expect((await storage.listRecords('bob', 'todos', { limit: 10 })).items).toHaveLength(1);
    });

    it('lists live records by entity id, paged with after', async () => {
      const ids = ['b', 'a', 'd', 'c'];
      await storage.applyChanges(
        'alice',
        ids.map((entityId) => change({ entityId })),
        decide,
      );
      const first = await storage.listRecords('alice', 'todos', { limit: 2 });
      expect(first.items.map((record) => record.entityId)).toEqual(['a', 'b']);
      expect(first.hasMore).toBe(true);
      const second = await storage.listRecords('alice', 'todos', { after: 'b', limit: 2 });
      expect(second.items.map((record) => record.entityId)).toEqual(['c', 'd']);
      expect(second.hasMore).toBe(false);
    });

    it('round-trips nested JSON data and vectors exactly', async () => {
      const data = { title: 'x', tags: ['a', 'b'], meta: { n: 1.5, ok: false, none: null } };
      await storage.applyChanges('alice', [change({ entityId: 't1', data, vector: { a: 3, b: 7 } })], decide);
      expect(await storage.getRecord('alice', 'todos', 't1')).toMatchObject({ data, vector: { a: 3, b: 7 } });
    });
  });
}
