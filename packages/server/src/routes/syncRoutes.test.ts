import {
  COMPACT_RECORDS,
  encodeHlc,
  expandCompactRecords,
  PullResponseSchema,
  PushResponseSchema,
  RECORDS_HEADER,
  ServerConfigSchema,
  type ServerRecord,
} from '@ferry/protocol';
import * as v from 'valibot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeChange, pushBody, startTestServer, T0, type TestServer } from '../testing/testServer.js';

let t: TestServer;
beforeEach(async () => {
  t = await startTestServer();
});
afterEach(async () => {
  await t.close();
});

async function push(changes: Parameters<typeof pushBody>[0], as = 'alice') {
  const response = await t.call('POST', '/v1/push', { as, body: pushBody(changes) });
  expect(response.statusCode).toBe(200);
  return v.parse(PushResponseSchema, response.json());
}

async function pullAll(as: string, limit: number, types?: string) {
  const records: ServerRecord[] = [];
  let cursor = 0;
  let pages = 0;
  for (;;) {
    const query = `cursor=${cursor}&limit=${limit}${types ? `&types=${types}` : ''}`;
    const response = await t.call('GET', `/v1/pull?${query}`, { as });
    expect(response.statusCode).toBe(200);
    const page = v.parse(PullResponseSchema, response.json());
    pages += 1;
    records.push(...page.changes);
    cursor = page.cursor;
    if (!page.hasMore) return { records, pages, cursor };
  }
}

describe('GET /health and /v1/config', () => {
  it('answers health without auth or protocol header', async () => {
    const response = await t.server.app.inject({ method: 'GET', url: '/health' });
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('describes the server without a token', async () => {
    const response = await t.call('GET', '/v1/config', { as: null });
    expect(response.statusCode).toBe(200);
    const config = v.parse(ServerConfigSchema, response.json());
    expect(config).toMatchObject({
      protocolVersion: 1,
      supportedVersions: [1],
      entityTypes: ['todos', 'notes'],
      conflictStrategies: {},
      limits: { maxBodyBytes: 1_048_576, maxChangesPerPush: 2000, maxPullLimit: 2000 },
      serverTime: T0,
    });
  });
});

describe('POST /v1/push', () => {
  it('applies changes in order and returns a result per change and the cursor', async () => {
    const response = await push([
      makeChange({ entityId: 't1', data: { title: 'milk', completed: false } }),
      makeChange({ entityId: 't2', data: { title: 'eggs' } }),
    ]);
    expect(response.results.map((result) => [result.status, result.record?.seq])).toEqual([
      ['applied', 1],
      ['applied', 2],
    ]);
    expect(response).toMatchObject({ cursor: 2, serverTime: T0 });
    expect(response.results[0]?.record).toMatchObject({
      entityType: 'todos',
      entityId: 't1',
      data: { title: 'milk', completed: false },
      deleted: false,
      version: 1,
      vector: { 'device-a': 1 },
      clientId: 'device-a',
    });
  });

  it('applies a replayed change once (same change id twice)', async () => {
    const create = makeChange({ entityId: 't1' });
    await push([create]);
    const replay = await push([create]);
    expect(replay.results[0]).toMatchObject({ status: 'duplicate', record: { seq: 1, version: 1 } });
    expect(replay.cursor).toBe(1);
    const log = (await t.call('GET', '/v1/changes?since=0')).json();
    expect(log.changes).toHaveLength(1);
  });

  it('answers a stale-vector push with a conflict carrying the current record', async () => {
    await push([makeChange({ entityId: 't1', data: { title: 'v1' } })]);
    const fromB = makeChange({
      entityId: 't1',
      operation: 'UPDATE',
      data: { title: 'from b' },
      clientId: 'device-b',
      vector: { 'device-a': 1, 'device-b': 1 },
    });
    const applied = await t.call('POST', '/v1/push', { body: pushBody([fromB], 'device-b') });
    expect(applied.json().results[0].status).toBe('applied');
    // device-a edits its copy of v1 without having seen device-b's edit: concurrent.
    const stale = await push([
      makeChange({ entityId: 't1', operation: 'UPDATE', data: { title: 'stale' }, vector: { 'device-a': 2 } }),
    ]);
    expect(stale.results[0]).toMatchObject({
      status: 'conflict',
      record: { data: { title: 'from b' }, vector: { 'device-a': 1, 'device-b': 1 }, version: 2 },
    });
    expect(stale.cursor).toBe(2);
    const pulled = (await t.call('GET', '/v1/pull')).json().changes;
    expect(pulled.map((record: ServerRecord) => record.data?.title)).toEqual(['from b']);
  });

  it('patches UPDATE fields, stamps field clocks, and tombstones DELETE', async () => {
    const a = makeChange({ entityId: 't1', data: { title: 'a', completed: false } });
    const u = makeChange({ entityId: 't1', operation: 'UPDATE', data: { completed: true }, vector: { 'device-a': 2 } });
    const d = makeChange({ entityId: 't1', operation: 'DELETE', vector: { 'device-a': 3 } });
    const [, updated] = (await push([a, u])).results;
    expect(updated?.record).toMatchObject({ data: { title: 'a', completed: true }, version: 2 });
    expect(updated?.record?.fieldHlcs).toEqual({ title: a.hlc, completed: u.hlc });
    const deleted = (await push([d])).results[0];
    expect(deleted?.record).toMatchObject({ data: null, deleted: true, version: 3, seq: 3 });
  });

  it('rejects one badly typed change and applies the others', async () => {
    const response = await push([
      makeChange({ entityId: 't1' }),
      makeChange({ entityId: 't2', data: { title: 7 } }),
      makeChange({ entityId: 't3' }),
    ]);
    expect(response.results.map((result) => result.status)).toEqual(['applied', 'rejected', 'applied']);
    expect(response.results[1]?.error).toEqual({
      code: 'VALIDATION_ERROR',
      message: 'todos.title must be a string, got number',
      retryable: false,
    });
    expect(response.cursor).toBe(2);
  });

  it('re-stamps a change from a clock far in the future with the server clock', async () => {
    const future = T0 + 24 * 60 * 60 * 1000;
    const change = makeChange({
      entityId: 't1',
      timestamp: future,
      hlc: encodeHlc({ wallTime: future, counter: 0, node: 'device-a' }),
    });
    const record = (await push([change])).results[0]?.record;
    expect(record?.hlc).toMatch(/-server$/);
    expect((record?.hlc ?? '') < change.hlc).toBe(true);
    expect(record?.fieldHlcs.title).toBe(record?.hlc);
  });

  it("confines a push to the token user: bob writing alice's id writes bob's own entity", async () => {
    await push([makeChange({ entityId: 'shared', data: { title: 'alice' } })], 'alice');
    const hashBefore = t.hashDb();
    const bob = await push(
      [makeChange({ entityId: 'shared', operation: 'UPDATE', data: { title: 'bob' }, vector: { 'device-a': 9 } })],
      'bob',
    );
    expect(bob.results[0]).toMatchObject({ status: 'applied', record: { data: { title: 'bob' }, version: 1, seq: 1 } });
    expect(t.hashDb()).not.toBe(hashBefore);
    const alice = (await pullAll('alice', 10)).records;
    expect(alice).toHaveLength(1);
    expect(alice[0]).toMatchObject({ data: { title: 'alice' }, version: 1 });
  });
});

describe('GET /v1/pull', () => {
  it('returns every record exactly once, in seq order, over more than 3 pages, tombstones included', async () => {
    const changes = Array.from({ length: 23 }, (_, i) => makeChange({ entityId: `t${String(i).padStart(2, '0')}` }));
    await push(changes.slice(0, 12));
    await push(changes.slice(12));
    await push([makeChange({ entityId: 't05', operation: 'DELETE', vector: { 'device-a': 2 } })]);
    const { records, pages, cursor } = await pullAll('alice', 5);
    expect(pages).toBe(5);
    expect(cursor).toBe(24);
    expect(records.map((record) => record.seq)).toEqual(
      Array.from({ length: 24 }, (_, i) => i + 1).filter((seq) => seq !== 6),
    );
    expect(new Set(records.map((record) => record.entityId)).size).toBe(23);
    expect(records.at(-1)).toMatchObject({ entityId: 't05', deleted: true, data: null });
  });

  it('keeps the request cursor when nothing is new, and filters by types', async () => {
    await push([
      makeChange({ entityId: 'n1', entityType: 'notes', data: { body: 'hi' } }),
      makeChange({ entityId: 't1' }),
    ]);
    const empty = (await t.call('GET', '/v1/pull?cursor=2')).json();
    expect(empty).toEqual({ changes: [], cursor: 2, hasMore: false, serverTime: T0 });
    const notes = await pullAll('alice', 10, 'notes');
    expect(notes.records.map((record) => record.entityId)).toEqual(['n1']);
  });
});

describe('pages of up to 2,000 records (LIMITS.maxPullLimit, 1,000 in earlier servers)', () => {
  it('are served by GET /v1/pull, its snapshot pages and POST /v1/pull; a limit of 2,001 is a 400', async () => {
    const changes = Array.from({ length: 2001 }, (_, index) =>
      makeChange({ entityId: `t${index}`, hlc: encodeHlc({ wallTime: T0, counter: index, node: 'device-a' }) }),
    );
    await push(changes.slice(0, 2000));
    await push(changes.slice(2000));
    const compact = { headers: { [RECORDS_HEADER]: COMPACT_RECORDS } };
    // The stored-JSON path (whole and compact) and the object path of a snapshot page.
    for (const [url, options] of [
      ['/v1/pull?cursor=0&limit=2000', {}],
      ['/v1/pull?cursor=0&limit=2000', compact],
      ['/v1/pull?cursor=0&limit=2000&snapshot=1', {}],
    ] as const) {
      const response = await t.call('GET', url, options);
      expect(response.statusCode, url).toBe(200);
      const body = response.json();
      expect([body.changes.length, body.hasMore, body.changes.at(-1).entityId], url).toEqual([2000, true, 't1999']);
    }
    const multi = await t.call('POST', '/v1/pull', { body: { private: 0, limit: 2000 } });
    expect(multi.statusCode).toBe(200);
    expect(multi.json().pages.map((page: { changes: unknown[] }) => page.changes.length)).toEqual([2000]);

    for (const response of [
      await t.call('GET', '/v1/pull?cursor=0&limit=2001'),
      await t.call('POST', '/v1/pull', { body: { private: 0, limit: 2001 } }),
    ]) {
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'VALIDATION_ERROR', retryable: false });
    }
  });
});

describe('GET /v1/pull with ferry-records: compact', () => {
  it('leaves out field stamps a client can rebuild, on the stored-JSON path and the object path alike', async () => {
    await push([
      makeChange({ entityId: 't1', data: { title: 'whole', completed: false } }),
      makeChange({ entityId: 't2', data: { title: 'two', completed: false } }),
    ]);
    // A partial update at a later stamp: t2's fields now carry different stamps.
    await push([
      makeChange({
        entityId: 't2',
        operation: 'UPDATE',
        hlc: encodeHlc({ wallTime: T0, counter: 9, node: 'device-a' }),
        vector: { 'device-a': 2 },
        data: { title: 'later' },
      }),
    ]);
    const compact = { headers: { [RECORDS_HEADER]: COMPACT_RECORDS } };
    const whole = (await t.call('GET', '/v1/pull?cursor=0&limit=10')).json();
    // snapshot=1 is served from records as objects (the path PostgreSQL always takes).
    for (const url of ['/v1/pull?cursor=0&limit=10', '/v1/pull?cursor=0&limit=10&snapshot=1']) {
      const body = (await t.call('GET', url, compact)).json();
      expect(
        body.changes.map((record: object) => 'fieldHlcs' in record),
        url,
      ).toEqual([false, true]);
      expandCompactRecords(body.changes);
      expect(v.parse(PullResponseSchema, body).changes, url).toEqual(whole.changes);
    }
    // Without the header, or with a value this server does not know: whole records.
    for (const headers of [{}, { [RECORDS_HEADER]: 'columns' }]) {
      const body = (await t.call('GET', '/v1/pull?cursor=0&limit=10', { headers })).json();
      expect(body.changes.every((record: object) => 'fieldHlcs' in record)).toBe(true);
    }
  });
});

describe('GET /v1/changes', () => {
  it('returns the applied-change log after a seq, with seqs', async () => {
    const a = makeChange({ entityId: 't1' });
    const b = makeChange({ entityId: 't2' });
    await push([a, b]);
    const all = (await t.call('GET', '/v1/changes?since=0&limit=1')).json();
    expect(all).toEqual({ changes: [{ ...a, seq: 1 }], cursor: 1, hasMore: true });
    const rest = (await t.call('GET', '/v1/changes?since=1')).json();
    expect(rest).toEqual({ changes: [{ ...b, seq: 2 }], cursor: 2, hasMore: false });
  });
});

describe('POST /v1/batch', () => {
  it('lists conflicts and rejections in failed, and applies the rest', async () => {
    await push([makeChange({ entityId: 't1', vector: { 'device-a': 5 } })]);
    const stale = makeChange({ entityId: 't1', operation: 'UPDATE', data: { title: 'x' }, vector: { 'device-a': 4 } });
    const bad = makeChange({ entityId: 't2', data: { completed: 'yes' } });
    const good = makeChange({ entityId: 't3' });
    const response = await t.call('POST', '/v1/batch', { body: pushBody([stale, bad, good]) });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      success: false,
      failed: [
        {
          changeId: stale.id,
          error: { code: 'CONFLICT', message: expect.stringContaining('stale'), retryable: false },
        },
        {
          changeId: bad.id,
          error: {
            code: 'VALIDATION_ERROR',
            message: 'todos.completed must be a boolean, got string',
            retryable: false,
          },
        },
      ],
    });
    const ok = await t.call('POST', '/v1/batch', { body: pushBody([good, makeChange({ entityId: 't4' })]) });
    expect(ok.json()).toEqual({ success: true, failed: [] });
  });
});

describe('POST /v1/push?ack=compact', () => {
  it('answers a change stored exactly as sent with its version and seq, anything else in full', async () => {
    const created = makeChange({ entityId: 'c1', data: { title: 'milk', completed: false } });
    await push([makeChange({ entityId: 'p1', data: { title: 'eggs', completed: false } })]);
    const partial = makeChange({
      entityId: 'p1',
      operation: 'UPDATE',
      data: { title: 'brown eggs' },
      version: 2,
      vector: { 'device-a': 2 },
    });
    const stale = makeChange({
      entityId: 'p1',
      operation: 'UPDATE',
      data: { title: 'x' },
      clientId: 'device-a',
      vector: {},
    });
    const invalid = makeChange({ entityId: 'bad', data: { title: 5 } });
    const response = await t.call('POST', '/v1/push?ack=compact', {
      body: pushBody([created, partial, stale, invalid]),
    });
    expect(response.statusCode).toBe(200);
    const [compact, patched, conflict, rejected] = response.json().results;
    expect(compact).toEqual({ changeId: created.id, status: 'applied', version: 1, seq: 2 });
    expect(patched).toMatchObject({ status: 'applied', record: { data: { title: 'brown eggs', completed: false } } });
    expect(conflict).toMatchObject({ status: 'conflict', record: { entityId: 'p1' } });
    expect(rejected).toMatchObject({ status: 'rejected', error: { code: 'VALIDATION_ERROR' } });
    // A retry after a lost answer: the change is logged already, and its record is still its own.
    const again = await t.call('POST', '/v1/push?ack=compact', { body: pushBody([created]) });
    expect(again.json().results).toEqual([{ changeId: created.id, status: 'duplicate', version: 1, seq: 2 }]);
  });

  it('answers in full without ack or with ack=full, as every client before compact answers expects', async () => {
    const change = makeChange({ entityId: 'c1' });
    const [full] = (await push([change])).results;
    expect(full).toMatchObject({
      status: 'applied',
      record: { entityId: 'c1', version: 1, seq: 1, data: change.data },
    });
    const explicit = await t.call('POST', '/v1/push?ack=full', { body: pushBody([change]) });
    expect(explicit.json().results[0]).toMatchObject({ status: 'duplicate', record: { seq: 1 } });
  });

  it('refuses any other ack with a 400 and applies nothing', async () => {
    const response = await t.call('POST', '/v1/push?ack=tiny', { body: pushBody([makeChange({ entityId: 'c1' })]) });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringContaining('ack') });
    expect((await pullAll('alice', 10)).records).toEqual([]);
  });
});
