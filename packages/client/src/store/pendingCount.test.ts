import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBetterSqliteDriver } from '../drivers/better-sqlite3.js';
import { ChangeTracker } from '../tracking/ChangeTracker.js';
import { LocalStore } from './LocalStore.js';

// A real SQLite file: the count a write announces must be the outbox's row count at its commit.
let dir: string;
let files = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-pending-count-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Op =
  | { kind: 'write'; entity: number }
  | { kind: 'writeTwice'; entity: number }
  | { kind: 'ack'; count: number }
  | { kind: 'hold'; entity: number }
  | { kind: 'rawDelete'; thenWrite: boolean }
  | { kind: 'failedWrite' }
  | { kind: 'count' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), entity: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ kind: fc.constant('writeTwice' as const), entity: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ kind: fc.constant('ack' as const), count: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('hold' as const), entity: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ kind: fc.constant('rawDelete' as const), thenWrite: fc.boolean() }),
  fc.record({ kind: fc.constant('failedWrite' as const) }),
  fc.record({ kind: fc.constant('count' as const) }),
);

describe('the pending count a write announces', () => {
  it('is the outbox row count at its commit, after any writes, acks, holds, arbitrary SQL and rollbacks', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
        const path = join(dir, `device-${files++}.db`);
        const store = await LocalStore.open(createBetterSqliteDriver(path));
        // A second connection counts, so the check itself never refreshes what the store knows.
        const probe = new Database(path, { readonly: true });
        const count = () => (probe.prepare('SELECT COUNT(*) AS n FROM ferry_outbox').get() as { n: number }).n;
        const tracker = new ChangeTracker(store, 'dev-a');
        const announced: number[] = [];
        store.subscribe((event) => {
          if (event.pendingChanges !== undefined) announced.push(event.pendingChanges);
        });
        const write = async (entity: number) => {
          const id = `t${entity}`;
          const existing = await store.getEntity('todos', id);
          await tracker.trackChange('todos', id, existing ? 'UPDATE' : 'CREATE', { title: 'x' });
        };
        try {
          for (const op of ops) {
            const before = announced.length;
            if (op.kind === 'write') await write(op.entity);
            else if (op.kind === 'writeTwice') {
              await store.write(async (tx) => {
                for (const title of ['a', 'b']) {
                  const existing = await tx.getEntity('todos', `t${op.entity}`);
                  await tracker.trackChangeIn(tx, 'todos', `t${op.entity}`, existing ? 'UPDATE' : 'CREATE', { title });
                }
              });
            } else if (op.kind === 'ack') {
              const pending = await tracker.getPendingChanges();
              await store.markAsSynced(pending.slice(0, op.count).map((change) => change.id));
            } else if (op.kind === 'hold') {
              await store.write((tx) => tx.setHeld('todos', `t${op.entity}`, true));
            } else if (op.kind === 'rawDelete') {
              // Arbitrary SQL takes rows off without the store knowing how many, alone or before
              // a write in the same transaction.
              await store.write(async (tx) => {
                await tx.execute('DELETE FROM ferry_outbox WHERE seq % 2 = 0');
                if (op.thenWrite)
                  await tracker.trackChangeIn(tx, 'todos', `raw${announced.length}`, 'CREATE', { title: 'x' });
              });
            } else if (op.kind === 'failedWrite') {
              await expect(
                store.write(async (tx) => {
                  await tracker.trackChangeIn(tx, 'todos', 'rolled-back', 'CREATE', { title: 'x' });
                  throw new Error('app failure');
                }),
              ).rejects.toThrow('app failure');
            } else {
              await store.countPending();
            }
            if (announced.length > before) expect(announced.at(-1)).toBe(count());
          }
        } finally {
          probe.close();
          await store.close();
        }
      }),
      { numRuns: 80 },
    );
  }, 60_000);
});
