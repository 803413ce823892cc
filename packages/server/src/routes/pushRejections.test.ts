import { type Change, ERROR_META, type PushResponse } from '@ferry/protocol';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type PostgresCluster, postgresAvailable, startPostgres } from '../../../../test/support/postgres.js';
import { PostgresStorage } from '../storage/PostgresStorage.js';
import { makeChange, pushBody, startTestServer, type TestServer } from '../testing/testServer.js';

/**
 * One bad change never blocks its push: whatever can be judged per change is answered
 * `rejected` for that change alone (never logged, nothing stored), and the rest applies.
 * Only a push malformed as a whole (see badInput.test.ts) is a 400.
 */

/** A JSON-parsed copy of `change` with `patch` applied: what a device's outbox could hold. */
function raw(change: Change, patch: Record<string, unknown>): Change {
  return { ...(JSON.parse(JSON.stringify(change)) as Change), ...patch } as Change;
}

const lone = JSON.parse('"\\ud800"') as string;

/** Each bad change, and the wire code and message it is rejected with. */
const BAD: Array<[string, () => Change, string, RegExp]> = [
  [
    'an undeclared entity type (a typo)',
    () => makeChange({ entityId: 'typo', entityType: 'todo' }),
    'UNKNOWN_ENTITY_TYPE',
    /Entity type "todo" is not declared in the server schema \(declared: todos, notes\)/,
  ],
  [
    'a field of the wrong type',
    () => makeChange({ entityId: 'wrong', data: { title: 42 } }),
    'VALIDATION_ERROR',
    /todos\.title must be a string, got number/,
  ],
  [
    'an entity type that is not a name',
    () => makeChange({ entityId: 'x', entityType: 'todos; DROP TABLE records' }),
    'VALIDATION_ERROR',
    /entityType/,
  ],
  [
    'a version that is not a number',
    () => raw(makeChange({ entityId: 'v' }), { version: 'one' }),
    'VALIDATION_ERROR',
    /version/,
  ],
  [
    'a DELETE with data',
    () => raw(makeChange({ entityId: 'd', operation: 'DELETE' }), { data: {} }),
    'VALIDATION_ERROR',
    /data must be null for DELETE/,
  ],
  [
    'an entity id with a lone surrogate',
    () => makeChange({ entityId: `id-${lone}` }),
    'VALIDATION_ERROR',
    /entityId: entityId must be well-formed Unicode/,
  ],
  [
    'a lone surrogate in the data',
    () => makeChange({ entityId: 'ls', data: { title: `a${lone}` } }),
    'VALIDATION_ERROR',
    /lone surrogate/,
  ],
  [
    'a NUL character in the data',
    () => makeChange({ entityId: 'nul', data: { title: 'a\u0000b' } }),
    'VALIDATION_ERROR',
    /NUL character/,
  ],
  [
    'fieldHlcs as an array',
    () => raw(makeChange({ entityId: 'fa' }), { fieldHlcs: [] }),
    'VALIDATION_ERROR',
    /fieldHlcs must be an object/,
  ],
];

/** Pushes `[good, bad, good]`, checks the results and that exactly the good ones are stored. */
async function pushesAround(t: TestServer, bad: Change, code: string, message: RegExp): Promise<void> {
  const before = (await t.call('GET', '/v1/pull')).json().cursor as number;
  const [first, second] = [makeChange({ entityId: `ok-${bad.id}-1` }), makeChange({ entityId: `ok-${bad.id}-2` })];
  const response = await t.call('POST', '/v1/push', { body: pushBody([first, bad, second]) });
  expect(response.statusCode).toBe(200);
  const body = response.json() as PushResponse;
  expect(body.results.map((result) => [result.changeId, result.status])).toEqual([
    [first.id, 'applied'],
    [bad.id, 'rejected'],
    [second.id, 'applied'],
  ]);
  expect(body.results[1]?.error).toEqual({
    code,
    message: expect.stringMatching(message),
    retryable: ERROR_META[code as keyof typeof ERROR_META].retryable,
  });
  expect(body.results[1]?.error?.retryable).toBe(false);
  expect(body.cursor).toBe(before + 2);
  const pulled = (await t.call('GET', `/v1/pull?cursor=${before}`)).json();
  expect(pulled.changes.map((record: { entityId: string }) => record.entityId)).toEqual([
    first.entityId,
    second.entityId,
  ]);
}

describe('per-change rejection on SQLite', () => {
  let t: TestServer;
  beforeEach(async () => {
    t = await startTestServer();
  });
  afterEach(async () => {
    await t.close();
  });

  it.each(BAD)('rejects %s alone; the changes around it apply', async (_name, bad, code, message) => {
    await pushesAround(t, bad(), code, message);
  });

  it('answers a push of only rejected changes with 200, its cursor, and stores nothing', async () => {
    await t.call('POST', '/v1/push', { body: pushBody([makeChange({ entityId: 'seed' })]) });
    const hash = t.hashDb();
    const changes = BAD.map(([, bad]) => bad());
    const response = await t.call('POST', '/v1/push', { body: pushBody(changes) });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ cursor: 1, results: changes.map(() => ({ status: 'rejected' })) });
    expect(t.hashDb()).toBe(hash);
  });

  it('rejects the same change again when it is re-sent (a rejection is never logged as applied)', async () => {
    const typo = makeChange({ entityId: 'typo', entityType: 'todo' });
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await t.call('POST', '/v1/push', { body: pushBody([typo]) });
      expect(response.json().results[0]).toMatchObject({ status: 'rejected', error: { code: 'UNKNOWN_ENTITY_TYPE' } });
    }
  });

  it('lists the rejected change in /v1/batch failures while the others apply', async () => {
    const [good, typo] = [makeChange({ entityId: 'good' }), makeChange({ entityId: 'typo', entityType: 'todo' })];
    const response = await t.call('POST', '/v1/batch', { body: pushBody([typo, good]) });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      success: false,
      failed: [
        { changeId: typo.id, error: { code: 'UNKNOWN_ENTITY_TYPE', message: expect.any(String), retryable: false } },
      ],
    });
    const records = (await t.call('GET', '/v1/entities/todos')).json().records;
    expect(records.map((record: { entityId: string }) => record.entityId)).toEqual(['good']);
  });
});

const available = postgresAvailable();

describe.skipIf(!available)('per-change rejection on PostgreSQL', () => {
  // jsonb refuses lone surrogates (and NUL): unchecked, such a change failed the whole push
  // with a retryable 500 (or a 400), and the device retried it forever.
  let cluster: PostgresCluster;
  let storage: PostgresStorage;
  let t: TestServer;
  beforeAll(async () => {
    cluster = await startPostgres();
    storage = await PostgresStorage.open({ connectionString: await cluster.createDatabase() });
    t = await startTestServer({ storage });
  }, 90_000);
  afterAll(async () => {
    await t?.close();
    await storage?.close();
    await cluster?.stop();
  });

  it.each(BAD)('rejects %s alone; the changes around it apply', async (_name, bad, code, message) => {
    await pushesAround(t, bad(), code, message);
  });
});
