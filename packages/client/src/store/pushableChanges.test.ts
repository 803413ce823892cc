/**
 * The push reads its batch as each change's wire JSON, built by SQLite from the stored texts.
 * It must be exactly the text the general path makes (`JSON.stringify(stripOutbox(entry))` of
 * the entry read back), for any change the tracker can queue.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Change } from '@ferry/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBetterSqliteDriver } from '../drivers/better-sqlite3.js';
import { LocalStore } from './LocalStore.js';
import { stripOutbox } from './StoreTx.js';

let dir: string;
let store: LocalStore;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-pushable-'));
  store = await LocalStore.open(createBetterSqliteDriver(join(dir, 'app.db')));
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const HLC = '001732550000000-000000-dev-a';
const text = fc.string({ unit: 'grapheme', maxLength: 12 });
const value = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((code) => String.fromCharCode(code)) }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
);

const changeArb: fc.Arbitrary<Change> = fc
  .record(
    {
      entityType: fc.constantFrom('todos', 'notes', 'a.b:c-d'),
      entityId: fc.string({ minLength: 1, unit: 'grapheme' }),
      operation: fc.constantFrom('CREATE', 'UPDATE', 'DELETE'),
      data: fc.dictionary(fc.stringMatching(/^[a-z_$][a-z0-9_$]{0,8}$/), value, { maxKeys: 5 }),
      timestamp: fc.nat(),
      version: fc.integer({ min: 1, max: 1_000_000 }),
      vector: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), fc.nat(), { maxKeys: 3 }),
      fieldHlcs: fc.option(fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.constant(HLC), { maxKeys: 3 }), {
        nil: undefined,
      }),
      space: fc.option(fc.oneof(text, fc.constant('')), { nil: undefined }),
    },
    { requiredKeys: ['entityType', 'entityId', 'operation', 'data', 'timestamp', 'version', 'vector'] },
  )
  .map((fields) => {
    const change: Change = {
      // Replaced by a fresh id when queued.
      id: `${HLC}.000000`,
      entityType: fields.entityType,
      entityId: fields.entityId,
      operation: fields.operation,
      data: fields.operation === 'DELETE' ? null : fields.data,
      timestamp: fields.timestamp,
      hlc: HLC,
      version: fields.version,
      vector: fields.vector,
      clientId: 'dev-a',
    };
    if (fields.fieldHlcs) change.fieldHlcs = fields.fieldHlcs;
    if (fields.space !== undefined) change.space = fields.space;
    return change;
  });

describe('the push batch as wire JSON', () => {
  it('is byte for byte JSON.stringify of the change the general read gives, in outbox order', async () => {
    let next = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(changeArb, { minLength: 1, maxLength: 6 }), async (changes) => {
        // Fresh ids per run: the outbox keeps the changes of earlier runs.
        const queued = changes.map((change) => ({ ...change, id: `${HLC}.${(next++).toString(36).padStart(6, '0')}` }));
        const after = await store.read(async (tx) => (await tx.pendingChanges(-1, true)).at(-1)?.seq ?? 0);
        await store.write(async (tx) => {
          for (const change of queued) await tx.insertChange(change);
        });
        const [general, pushable] = await store.read(async (tx) => [
          await tx.pendingChangesAfter(after, 100),
          await tx.pushableChangesAfter(after, 100),
        ]);
        expect(pushable.map((entry) => entry.seq)).toEqual(general.map((entry) => entry.seq));
        pushable.forEach((entry, index) => {
          const change = stripOutbox(general[index]!);
          expect(entry.json).toBe(JSON.stringify(change));
          expect(JSON.parse(entry.json)).toEqual(change);
        });
      }),
      { numRuns: 60 },
    );
  });

  it('leaves held changes out and stops at the limit', async () => {
    const after = await store.read(async (tx) => (await tx.pendingChanges(-1, true)).at(-1)?.seq ?? 0);
    const change = (id: string, entityId: string): Change => ({
      id: `${HLC}.${id}`,
      entityType: 'todos',
      entityId,
      operation: 'CREATE',
      data: { title: id },
      timestamp: 1,
      hlc: HLC,
      version: 1,
      vector: { 'dev-a': 1 },
      clientId: 'dev-a',
    });
    await store.write(async (tx) => {
      await tx.insertChange(change('held01', 'h'));
      await tx.setHeld('todos', 'h', true);
      await tx.insertChange(change('free01', 'f1'));
      await tx.insertChange(change('free02', 'f2'));
    });
    const read = await store.read((tx) => tx.pushableChangesAfter(after, 1));
    expect(read.map((entry) => JSON.parse(entry.json).id)).toEqual([`${HLC}.free01`]);
  });
});
