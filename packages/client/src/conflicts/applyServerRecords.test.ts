import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeHlc, HybridLogicalClock, type ServerRecord, type VersionVector } from '@ferry/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBetterSqliteDriver } from '../drivers/better-sqlite3.js';
import { LocalStore } from '../store/LocalStore.js';
import { ChangeTracker } from '../tracking/ChangeTracker.js';
import { applyServerRecord, applyServerRecords } from './reconcile.js';

// Real SQLite files: the page path must leave exactly the rows the one-record path leaves.
let dir: string;
let files = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-apply-page-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const START = 1_732_550_000_000;
const KEYS = ['t0', 't1', 't2', 't3', 't4'];
const VECTORS: VersionVector[] = [{ 'dev-b': 1 }, { 'dev-b': 2 }, { 'dev-a': 1 }, { 'dev-a': 1, 'dev-b': 1 }];

interface Scenario {
  /** Entities the device holds before the page: synced or with a pending change. */
  local: Array<{ key: string; pending: boolean }>;
  page: Array<{ key: string; vector: number; deleted: boolean; title: string }>;
}

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  local: fc.uniqueArray(fc.record({ key: fc.constantFrom(...KEYS), pending: fc.boolean() }), {
    selector: (entry) => entry.key,
    maxLength: 4,
  }),
  page: fc.array(
    fc.record({
      key: fc.constantFrom(...KEYS),
      vector: fc.integer({ min: 0, max: VECTORS.length - 1 }),
      deleted: fc.boolean(),
      title: fc.string({ maxLength: 6 }),
    }),
    { maxLength: 12 },
  ),
});

function toRecords(page: Scenario['page']): ServerRecord[] {
  return page.map((entry, index): ServerRecord => {
    const hlc = encodeHlc({ wallTime: START + index, counter: 0, node: 'dev-b' });
    return {
      entityType: 'todos',
      entityId: entry.key,
      data: entry.deleted ? null : { title: entry.title },
      deleted: entry.deleted,
      version: index + 1,
      vector: VECTORS[entry.vector] as VersionVector,
      hlc,
      fieldHlcs: entry.deleted ? {} : ({ title: hlc } as Record<string, string>),
      seq: index + 1,
      clientId: 'dev-b',
      changeId: `dev-b:${index}`,
    };
  });
}

/** A device in the scenario's starting state, its rows after applying the page, and the conflicts. */
async function run(scenario: Scenario, mode: 'page' | 'one-by-one') {
  const store = await LocalStore.open(
    createBetterSqliteDriver(join(dir, `device-${files++}.db`), { synchronous: 'OFF' }),
  );
  try {
    const clock = new HybridLogicalClock('dev-a', { now: () => START });
    const tracker = new ChangeTracker(store, 'dev-a', { clock, random: () => 0.5 });
    for (const { key, pending } of scenario.local) {
      const change = await tracker.trackChange('todos', key, 'CREATE', { title: `local ${key}` });
      if (!pending) await tracker.markAsSynced(change.id);
    }
    const records = toRecords(scenario.page);
    const conflicts = await store.write(async (tx) => {
      if (mode === 'one-by-one') {
        const found = [];
        for (const record of records) found.push(await applyServerRecord(tx, record, clock));
        return found.filter((conflict) => conflict !== null);
      }
      // As a pull prefetches a page (ids in one small range: proven absent by a range read).
      await tx.prefetch(records, { mostlyNew: true });
      return applyServerRecords(tx, records, clock);
    });
    const entities = await store.read((tx) =>
      tx.execute('SELECT * FROM ferry_entities ORDER BY entity_type, entity_id'),
    );
    const outbox = await store.read((tx) => tx.execute('SELECT change_id, held FROM ferry_outbox ORDER BY seq'));
    return {
      entities: entities.rows,
      outbox: outbox.rows,
      conflicts: conflicts.map((conflict) => [conflict.record.entityId, conflict.record.seq, conflict.pendingIds]),
      clock: clock.now(),
    };
  } finally {
    await store.close();
  }
}

describe('applyServerRecords (a pulled page at once)', () => {
  it('leaves the same rows, queue, conflicts and clock as applying each record in turn', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) => {
        expect(await run(scenario, 'page')).toEqual(await run(scenario, 'one-by-one'));
      }),
      { numRuns: 60 },
    );
  });

  it('applies a second record of a key new in the page against the first one, not as new again', async () => {
    const scenario: Scenario = {
      local: [],
      page: [
        { key: 't1', vector: 1, deleted: false, title: 'newer' },
        { key: 't1', vector: 0, deleted: false, title: 'stale' },
      ],
    };
    const { entities } = await run(scenario, 'page');
    expect(entities).toHaveLength(1);
    // { dev-b: 1 } is older than { dev-b: 2 }: the stale copy does not overwrite the first.
    expect(JSON.parse(String(entities[0]?.data))).toEqual({ title: 'newer' });
  });

  it('refuses to insert over a row the device holds, changing nothing', async () => {
    const store = await LocalStore.open(
      createBetterSqliteDriver(join(dir, `device-${files++}.db`), { synchronous: 'OFF' }),
    );
    try {
      const tracker = new ChangeTracker(store, 'dev-a');
      await tracker.trackChange('todos', 't1', 'CREATE', { title: 'mine' });
      const [record] = toRecords([{ key: 't1', vector: 0, deleted: false, title: 'theirs' }]);
      await expect(
        store.write(async (tx) => {
          await tx.insertEntities([
            {
              entityType: 'todos',
              entityId: 't9',
              data: {},
              deleted: false,
              version: 1,
              vector: {},
              hlc: record!.hlc,
              fieldHlcs: {},
              serverVersion: 1,
            },
            {
              entityType: 'todos',
              entityId: 't1',
              data: record!.data,
              deleted: false,
              version: 1,
              vector: record!.vector,
              hlc: record!.hlc,
              fieldHlcs: record!.fieldHlcs,
              serverVersion: 1,
            },
          ]);
        }),
      ).rejects.toThrow(/UNIQUE/);
      const rows = await store.read((tx) => tx.execute('SELECT entity_id, data FROM ferry_entities'));
      expect(rows.rows).toEqual([{ entity_id: 't1', data: JSON.stringify({ title: 'mine' }) }]);
    } finally {
      await store.close();
    }
  });
});
