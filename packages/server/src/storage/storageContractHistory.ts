import { randomUUID } from 'node:crypto';
import { type Change, encodeHlc, HybridLogicalClock } from '@ferry/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decideChange } from '../push/decideChange.js';
import { parseSchema } from '../schema/parseSchema.js';
import { type ChangeDecider, CursorExpiredError, type ServerStorage } from './ServerStorage.js';

const T0 = 1_732_550_000_000;
const DAY = 86_400_000;

/** A storage whose write stamps come from `now`. */
export type MakeTimedStorage = (options: { now: () => number }) => ServerStorage | Promise<ServerStorage>;

let counter = 0;
function change(entityId: string, operation: Change['operation'] = 'CREATE', version = 1): Change {
  counter += 1;
  return {
    id: `h-${counter}`,
    entityType: 'todos',
    entityId,
    operation,
    data: operation === 'DELETE' ? null : { title: `todo ${counter}` },
    timestamp: T0 + counter,
    hlc: encodeHlc({ wallTime: T0 + counter, counter: 0, node: 'dev' }),
    version,
    vector: { dev: version },
    clientId: 'dev',
  };
}

/**
 * The history half of the storage contract: compaction with its reset-required horizon, and
 * commit notifications. Runs inside {@link runStorageContract}.
 */
export function runHistoryContract(name: string, makeStorage: MakeTimedStorage): void {
  describe(`ServerStorage history contract: ${name}`, () => {
    let storage: ServerStorage;
    let time = T0;
    const decide: ChangeDecider = (input) =>
      decideChange(input, {
        schema: parseSchema({ entities: { todos: { fields: { title: 'string' } } } }),
        clock: new HybridLogicalClock('server', { now: () => T0 + 60_000 }),
      });

    beforeEach(async () => {
      time = T0;
      storage = await makeStorage({ now: () => time });
    });
    afterEach(async () => {
      await storage.close();
    });

    /** t1 created and deleted on day 0 (seqs 1, 2), t2 created on day 10 (seq 3). */
    async function history(): Promise<void> {
      await storage.applyChanges('alice', [change('t1')], decide);
      await storage.applyChanges('alice', [change('t1', 'DELETE', 2)], decide);
      time = T0 + 10 * DAY;
      await storage.applyChanges('alice', [change('t2')], decide);
    }

    it('removes old tombstones only, and refuses a pull cursor older than them', async () => {
      await history();
      const removed = await storage.compact({ tombstonesBefore: T0 + 5 * DAY });
      expect(removed).toEqual({ tombstones: 1, changes: 0 });
      expect(await storage.getRecord('alice', 'todos', 't1')).toBeNull();
      // A device at cursor 1 holds t1 alive and would never hear of its delete.
      const stale = storage.pull('alice', { cursor: 1, limit: 10 });
      await expect(stale).rejects.toBeInstanceOf(CursorExpiredError);
      await expect(stale).rejects.toMatchObject({ status: 410, code: 'RESET_REQUIRED', horizon: 2 });
      // From a snapshot (cursor 0) and from the horizon on, pulls work.
      expect((await storage.pull('alice', { cursor: 0, limit: 10 })).items.map((r) => r.entityId)).toEqual(['t2']);
      expect((await storage.pull('alice', { cursor: 2, limit: 10 })).items.map((r) => r.seq)).toEqual([3]);
      // Other scopes are untouched.
      expect((await storage.pull('bob', { cursor: 5, limit: 10 })).items).toEqual([]);
    });

    it('keeps live records and recent tombstones, and does nothing without a retention', async () => {
      await history();
      expect(await storage.compact({})).toEqual({ tombstones: 0, changes: 0 });
      expect(await storage.compact({ tombstonesBefore: T0 })).toEqual({ tombstones: 0, changes: 0 });
      expect((await storage.pull('alice', { cursor: 1, limit: 10 })).items.map((r) => r.seq)).toEqual([2, 3]);
      await storage.compact({ tombstonesBefore: T0 + 20 * DAY });
      expect((await storage.listRecords('alice', 'todos', { limit: 10 })).items.map((r) => r.entityId)).toEqual(['t2']);
    });

    it('lets a snapshot page below the horizon, and ends it at the horizon', async () => {
      await storage.applyChanges('alice', [change('t1'), change('t2')], decide);
      await storage.applyChanges('alice', [change('t2', 'DELETE', 2)], decide);
      time = T0 + 10 * DAY;
      await storage.compact({ tombstonesBefore: T0 + DAY });
      await expect(storage.pull('alice', { cursor: 1, limit: 10 })).rejects.toBeInstanceOf(CursorExpiredError);
      const first = await storage.pull('alice', { cursor: 0, limit: 1, snapshot: true });
      expect(first).toMatchObject({ items: [{ entityId: 't1', seq: 1 }], hasMore: false, cursor: 3, horizon: 3 });
      const again = await storage.pull('alice', { cursor: 1, limit: 1, snapshot: true });
      expect(again).toMatchObject({ items: [], hasMore: false, cursor: 3, horizon: 3 });
      // A plain pull carries no horizon: only a reset needs it.
      expect((await storage.pull('alice', { cursor: 3, limit: 10 })).horizon).toBeUndefined();
      // From the horizon on, the device pulls normally again.
      expect((await storage.pull('alice', { cursor: 3, limit: 10 })).items).toEqual([]);
    });

    it('trims the applied-change log and refuses a log cursor older than the trim', async () => {
      await history();
      expect(await storage.compact({ changesBefore: T0 + 5 * DAY })).toEqual({ tombstones: 0, changes: 2 });
      await expect(storage.changesSince('alice', { since: 0, limit: 10 })).rejects.toMatchObject({
        code: 'RESET_REQUIRED',
      });
      expect((await storage.changesSince('alice', { since: 2, limit: 10 })).items.map((c) => c.seq)).toEqual([3]);
      // Sequences keep counting after a trim.
      await storage.applyChanges('alice', [change('t3')], decide);
      expect(await storage.currentSeq('alice')).toBe(4);
    });

    it('reports its size, each scope head and horizons, and when a cursor fell behind, for the inspector', async () => {
      const empty = await storage.inspect?.(['alice']);
      expect(empty?.scopes).toEqual([{ scope: 'alice', head: 0, pullHorizon: 0, logHorizon: 0 }]);
      await history();
      // How long a device at each cursor has been behind: the first write after it.
      expect(
        await storage.firstWriteAfter?.([
          { scope: 'alice', cursor: 0 },
          { scope: 'alice', cursor: 2 },
          { scope: 'alice', cursor: 3 },
          { scope: 'nobody', cursor: 0 },
        ]),
      ).toEqual([T0, T0 + 10 * DAY, null, null]);
      for (let i = 0; i < 50; i++) await storage.applyChanges('bob', [change(`b${i}`)], decide);
      await storage.compact({ tombstonesBefore: T0 + 5 * DAY, changesBefore: T0 + 5 * DAY });
      const inspection = await storage.inspect?.(['bob', 'alice', 'nobody']);
      expect(inspection?.scopes).toEqual([
        { scope: 'bob', head: 50, pullHorizon: 0, logHorizon: 0 },
        { scope: 'alice', head: 3, pullHorizon: 2, logHorizon: 2 },
        { scope: 'nobody', head: 0, pullHorizon: 0, logHorizon: 0 },
      ]);
      expect(['sqlite', 'postgres']).toContain(inspection?.backend);
      // The size is the data's: it grows when records are written.
      const before = inspection?.sizeBytes ?? 0;
      expect(before).toBeGreaterThan(0);
      // Random text: PostgreSQL compresses a repeated one to almost nothing.
      const noise = () => Array.from({ length: 100 }, () => randomUUID()).join('');
      for (let i = 0; i < 40; i++) {
        await storage.applyChanges('bob', [{ ...change(`big${i}`), data: { title: noise() } }], decide);
      }
      expect((await storage.inspect?.([]))?.sizeBytes).toBeGreaterThan(before);
    });

    it('announces each committed push with its scope and seq, never a rolled-back one', async () => {
      const heard: Array<[string, number]> = [];
      const unsubscribe = storage.onCommit((scope, seq) => heard.push([scope, seq]));
      // A networked backend listens on its own connection; wait until it is up.
      await (storage as { whenListening?: () => Promise<void> }).whenListening?.();
      await storage.applyChanges('alice', [change('t1'), change('t2')], decide);
      const failing: ChangeDecider = () => {
        throw new Error('boom');
      };
      await expect(storage.applyChanges('alice', [change('t3')], failing)).rejects.toThrow('boom');
      const duplicate = change('t4');
      await storage.applyChanges('bob', [duplicate], decide);
      await storage.applyChanges('bob', [duplicate], decide);
      await storage.applyChanges('alice', [change('t5')], decide);
      await vi.waitFor(() => expect(heard).toContainEqual(['alice', 3]), { timeout: 5000, interval: 10 });
      expect(heard).toEqual([
        ['alice', 2],
        ['bob', 1],
        ['alice', 3],
      ]);
      unsubscribe();
      await storage.applyChanges('alice', [change('t6')], decide);
      expect(heard).toHaveLength(3);
    });
  });
}
