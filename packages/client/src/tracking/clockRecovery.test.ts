import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeHlc, encodeHlc, HybridLogicalClock, type ServerRecord } from '@ferry/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyServerRecords } from '../conflicts/reconcile.js';
import { createBetterSqliteDriver } from '../drivers/better-sqlite3.js';
import { LocalStore } from '../store/LocalStore.js';
import { ChangeTracker } from './ChangeTracker.js';

// Real SQLite files, reopened as an app restarting after a kill: every commit is durable, so a
// store closed right after a commit holds exactly what a SIGKILL after that commit leaves.
let dir: string;
let files = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-clock-recovery-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The device's physical clock never moves: every stamp's order then comes from the clock alone. */
const NOW = 1_732_550_000_000;
const DEVICE = 'dev-a';

interface Device {
  store: LocalStore;
  tracker: ChangeTracker;
}

async function open(path: string): Promise<Device> {
  const store = await LocalStore.open(createBetterSqliteDriver(path));
  const tracker = new ChangeTracker(store, DEVICE, { clock: new HybridLogicalClock(DEVICE, { now: () => NOW }) });
  return { store, tracker };
}

/** The time part of a stamp (wall time, counter), as a string that sorts the way the clock orders stamps. */
function timeOf(stamp: string): string {
  const { wallTime, counter } = decodeHlc(stamp);
  return encodeHlc({ wallTime, counter, node: 'x' });
}

function remoteRecord(id: string, wallTime: number, seq: number): ServerRecord {
  const hlc = encodeHlc({ wallTime, counter: 0, node: 'dev-b' });
  return {
    entityType: 'todos',
    entityId: id,
    data: { title: id },
    deleted: false,
    version: 1,
    vector: { 'dev-b': seq },
    hlc,
    fieldHlcs: { title: hlc },
    seq,
    clientId: 'dev-b',
    changeId: `dev-b:${seq}`,
  };
}

type Op =
  | { kind: 'write'; entity: number }
  | { kind: 'ack'; newest: boolean; count: number }
  | { kind: 'pull'; aheadMs: number }
  | { kind: 'rollback' }
  | { kind: 'restart' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('write' as const), entity: fc.integer({ min: 0, max: 5 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('ack' as const),
      newest: fc.boolean(),
      count: fc.integer({ min: 1, max: 4 }),
    }),
  },
  // Some remote stamps are within the drift bound (adopted), some beyond it (refused).
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('pull' as const), aheadMs: fc.integer({ min: 0, max: 400_000 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rollback' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('restart' as const) }) },
);

describe('the clock across restarts', () => {
  it('never goes back: after any writes, acknowledged pushes, pulls and rollbacks, a restart recovers every committed stamp', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 30 }), async (ops) => {
        const path = join(dir, `device-${files++}.db`);
        let device = await open(path);
        /** The clock's last stamp after the latest commit: what a kill right then must keep. */
        let committed = '';
        let pulls = 0;
        try {
          for (const op of ops) {
            if (op.kind === 'write') {
              const id = `t${op.entity}`;
              const existing = await device.store.getEntity('todos', id);
              const operation = existing && !existing.deleted ? 'UPDATE' : 'CREATE';
              await device.tracker.trackChange('todos', id, operation, { title: `${id}@${committed}` });
            } else if (op.kind === 'ack') {
              // An acknowledged push takes changes off the outbox, the newest or the oldest first.
              const pending = await device.tracker.getPendingChanges();
              const chosen = op.newest ? pending.slice(-op.count) : pending.slice(0, op.count);
              await device.store.markAsSynced(chosen.map((change) => change.id));
            } else if (op.kind === 'pull') {
              // A pulled page, as the pull applies it: the clock folds in the remote stamp.
              const record = remoteRecord(`r${pulls}`, NOW + op.aheadMs, ++pulls);
              await device.store.write((tx) => applyServerRecords(tx, [record], device.tracker.clock));
            } else if (op.kind === 'rollback') {
              // A write that fails after taking a stamp: nothing of it commits.
              await expect(
                device.store.write(async (tx) => {
                  await device.tracker.trackChangeIn(tx, 'todos', 'rolled-back', 'CREATE', { title: 'x' });
                  throw new Error('app failure');
                }),
              ).rejects.toThrow('app failure');
            } else {
              await device.store.close();
              device = await open(path);
              // The first write transaction restores the clock.
              await device.store.write(async () => undefined);
              const recovered = timeOf(device.tracker.clock.last);
              if (committed)
                expect(recovered >= timeOf(committed), `${recovered} recovered, ${committed} committed`).toBe(true);
            }
            if (op.kind !== 'rollback' && op.kind !== 'restart') committed = device.tracker.clock.last;
          }
          await device.store.close();
          device = await open(path);
          const next = await device.tracker.trackChange('todos', 'after-restart', 'CREATE', { title: 'next' });
          if (committed) expect(timeOf(next.hlc) > timeOf(committed), `${next.hlc} after ${committed}`).toBe(true);
        } finally {
          if (!device.store.closed) await device.store.close();
        }
      }),
      { numRuns: 60 },
    );
  }, 60_000);

  it('a local write leaves no clock key behind: its change is the newest in the outbox and carries the stamp', async () => {
    const path = join(dir, `device-${files++}.db`);
    const device = await open(path);
    await device.tracker.trackChange('todos', 't1', 'CREATE', { title: 'a' });
    await device.store.markAsSynced((await device.tracker.getPendingChanges()).map((change) => change.id));
    const saved = await device.store.kv.getItem('ferry:hlc');
    const write = await device.tracker.trackChange('todos', 't2', 'CREATE', { title: 'b' });
    // The acknowledgement kept the clock under the key; the write after it did not touch the key.
    expect(await device.store.kv.getItem('ferry:hlc')).toBe(saved);
    expect(saved! < write.hlc).toBe(true);
    await device.store.close();
    const reopened = await open(path);
    await reopened.store.write(async () => undefined);
    expect(reopened.tracker.clock.last).toBe(write.hlc);
    await reopened.store.close();
  });

  it('a remote stamp beyond the drift bound is neither adopted nor recovered', async () => {
    const path = join(dir, `device-${files++}.db`);
    const device = await open(path);
    const own = await device.tracker.trackChange('todos', 't1', 'CREATE', { title: 'a' });
    const farAhead = remoteRecord('r1', NOW + 60 * 60 * 1000, 1);
    await device.store.write((tx) => applyServerRecords(tx, [farAhead], device.tracker.clock));
    expect(device.tracker.clock.last).toBe(own.hlc);
    await device.store.close();
    const reopened = await open(path);
    await reopened.store.write(async () => undefined);
    expect(reopened.tracker.clock.last).toBe(own.hlc);
    await reopened.store.close();
  });
});
