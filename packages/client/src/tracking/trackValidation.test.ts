import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChangeSchema, describeIssues, type RecordData } from '@ferry/protocol';
import fc from 'fast-check';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBetterSqliteDriver } from '../drivers/better-sqlite3.js';
import { SyncError } from '../errors.js';
import { LocalStore } from '../store/LocalStore.js';
import { ChangeTracker } from './ChangeTracker.js';

// A real SQLite file: a refused write must leave no row and no outbox entry behind.
let dir: string;
let store: LocalStore;
let tracker: ChangeTracker;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-track-validation-'));
  store = await LocalStore.open(createBetterSqliteDriver(join(dir, 'device.db')));
  tracker = new ChangeTracker(store, 'dev-a');
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A change as the tracker builds it, with the parts it takes from the caller put in. */
function changeWith(input: { entityType: string; entityId: string; data: unknown; space?: string }) {
  return {
    id: '001732550000000-000000-dev-a.abc123',
    entityType: input.entityType,
    entityId: input.entityId,
    operation: 'CREATE',
    // The tracker reads a missing CREATE body as an empty record.
    data: input.data ?? {},
    timestamp: 1_732_550_000_000,
    hlc: '001732550000000-000000-dev-a',
    version: 1,
    vector: { 'dev-a': 1 },
    clientId: 'dev-a',
    // An empty space is the private space, which a change names by leaving `space` out.
    ...(input.space ? { space: input.space } : {}),
  };
}

const hostileText = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom(
    '',
    'ok',
    'a b',
    '\u0000',
    '\ud800',
    'x\udc00',
    '__proto__',
    'constructor',
    'é',
    '\u001f',
    'a'.repeat(300),
  ),
);
const hostileJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileText,
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(hostileText, tie('value'), { maxKeys: 3 }),
  ),
})).value;

const inputArb = fc.record(
  {
    entityType: fc.oneof(fc.constantFrom('todos', 'notes', '$spaces'), hostileText),
    entityId: fc.oneof(fc.constantFrom('t1', 'note-7'), hostileText),
    data: fc.oneof(fc.dictionary(hostileText, hostileJson, { maxKeys: 4 }), hostileJson),
    space: fc.oneof(fc.constantFrom('sp_abcdefgh', 'not-a-space'), hostileText),
  },
  { requiredKeys: ['entityType', 'entityId', 'data'] },
);

describe('trackChange validation', () => {
  it('accepts exactly what ChangeSchema accepts; a refusal carries its message and changes nothing', async () => {
    let next = 0;
    await fc.assert(
      fc.asyncProperty(inputArb, async (input) => {
        // A fresh id per run, so an accepted write never turns the next CREATE into a conflict.
        const entityId = `${input.entityId}${next++}`;
        const expected = v.safeParse(ChangeSchema, changeWith({ ...input, entityId }));
        const before = await store.countPending();
        const outcome = await tracker
          .trackChange(input.entityType, entityId, 'CREATE', input.data as RecordData, {
            ...(input.space === undefined ? {} : { space: input.space }),
          })
          .then(
            () => null,
            (error: unknown) => error,
          );
        if (expected.success) {
          expect(outcome).toBeNull();
          expect(await store.countPending()).toBe(before + 1);
          return;
        }
        expect(outcome).toBeInstanceOf(SyncError);
        expect((outcome as SyncError).code).toBe('VALIDATION_ERROR');
        expect((outcome as SyncError).message).toBe(
          `Invalid CREATE of ${input.entityType}: ${describeIssues(expected.issues)}`,
        );
        expect(await store.countPending()).toBe(before);
        expect(await store.getEntity(input.entityType, entityId)).toBeNull();
      }),
      { numRuns: 400 },
    );
  });
});
