import { type Change, PROTOCOL_HEADER, PROTOCOL_VERSION, type PushResponse } from '@ferry/protocol';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ChangeDecider } from '../storage/ServerStorage.js';
import { makeChange, pushBody, SECRET, startTestServer, T0, type TestServer } from '../testing/testServer.js';
import { ServerMetrics } from './ServerMetrics.js';

const ADMIN_TOKEN = 'admin-token-that-is-long-enough-0123456789';

/** `name{a="x",b="y"} value` lines of a Prometheus text exposition, keyed by `name{labels}` as written. */
function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    values.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return values;
}

/** Sum of every series of `name` whose labels include all of `labels`. */
function total(values: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [key, value] of values) {
    if (!(key === name || key.startsWith(`${name}{`))) continue;
    if (Object.entries(labels).every(([label, expected]) => key.includes(`${label}="${expected}"`))) sum += value;
  }
  return sum;
}

describe('/metrics over real HTTP', () => {
  let t: TestServer;
  let url: string;

  afterEach(async () => {
    await t.close();
  });

  async function start(overrides: Parameters<typeof startTestServer>[0] = { adminToken: ADMIN_TOKEN }) {
    t = await startTestServer(overrides);
    ({ url } = await t.server.listen({ port: 0, host: '127.0.0.1' }));
  }

  async function request(path: string, init: { method?: string; body?: unknown; token?: string | null } = {}) {
    const headers: Record<string, string> = { [PROTOCOL_HEADER]: String(PROTOCOL_VERSION) };
    const token = init.token === undefined ? await t.token('alice') : init.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    return fetch(`${url}${path}`, {
      method: init.method ?? 'GET',
      headers,
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      signal: AbortSignal.timeout(5_000),
    });
  }

  async function push(changes: Change[], clientId = 'device-a'): Promise<PushResponse> {
    const response = await request('/v1/push', { method: 'POST', body: pushBody(changes, clientId) });
    expect(response.status).toBe(200);
    return (await response.json()) as PushResponse;
  }

  async function scrape(): Promise<Map<string, number>> {
    const response = await request('/metrics', { token: ADMIN_TOKEN });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    return parseMetrics(await response.text());
  }

  it('counts requests, change outcomes by entity type, conflicts, rejections and pulled records', async () => {
    await start();
    const first = makeChange({ entityId: 't1', data: { title: 'v1' } });
    await push([
      first,
      makeChange({ entityId: 't2' }),
      makeChange({ entityId: 'n1', entityType: 'notes', data: { body: 'x' } }),
    ]);
    await push([first]); // a retry after a lost response: duplicate
    await push(
      [
        makeChange({
          entityId: 't1',
          operation: 'UPDATE',
          data: { title: 'b' },
          clientId: 'device-b',
          vector: { 'device-a': 1, 'device-b': 1 },
        }),
      ],
      'device-b',
    );
    const stale = await push([
      makeChange({ entityId: 't1', operation: 'UPDATE', data: { title: 'stale' }, vector: { 'device-a': 2 } }),
      makeChange({ entityId: 'bad', data: { title: 42 } as never }),
      makeChange({ entityId: 'typo', entityType: 'todo' }),
    ]);
    expect(stale.results.map((result) => result.status)).toEqual(['conflict', 'rejected', 'rejected']);
    const pulled = await request('/v1/pull?cursor=0&limit=100');
    expect(((await pulled.json()) as { changes: unknown[] }).changes).toHaveLength(3);
    expect((await request('/v1/pull', { token: null })).status).toBe(401);

    const metrics = await scrape();
    expect(total(metrics, 'ferry_http_requests_total', { route: '/v1/push', status: '200', method: 'POST' })).toBe(4);
    expect(total(metrics, 'ferry_http_requests_total', { route: '/v1/pull', status: '200', method: 'GET' })).toBe(1);
    expect(total(metrics, 'ferry_http_requests_total', { route: '/v1/pull', status: '401' })).toBe(1);
    expect(total(metrics, 'ferry_http_request_duration_seconds_count', { route: '/v1/push' })).toBe(4);
    expect(total(metrics, 'ferry_changes_total', { entity_type: 'todos', outcome: 'applied' })).toBe(3);
    expect(total(metrics, 'ferry_changes_total', { entity_type: 'notes', outcome: 'applied' })).toBe(1);
    expect(total(metrics, 'ferry_changes_total', { entity_type: 'todos', outcome: 'duplicate' })).toBe(1);
    expect(total(metrics, 'ferry_changes_total', { entity_type: 'todos', outcome: 'conflict' })).toBe(1);
    expect(total(metrics, 'ferry_conflicts_total', { entity_type: 'todos', conflict_type: 'update-update' })).toBe(1);
    expect(total(metrics, 'ferry_rejections_total', { entity_type: 'todos', code: 'VALIDATION_ERROR' })).toBe(1);
    // An undeclared type is counted, but under one label: a client cannot mint label values.
    expect(total(metrics, 'ferry_rejections_total', { entity_type: 'undeclared', code: 'UNKNOWN_ENTITY_TYPE' })).toBe(
      1,
    );
    expect([...metrics.keys()].some((key) => key.includes('"todo"'))).toBe(false);
    expect(total(metrics, 'ferry_pull_records_total')).toBe(3);
    expect(total(metrics, 'ferry_build_info', { protocol: String(PROTOCOL_VERSION) })).toBe(1);
    expect(metrics.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(total(metrics, 'ferry_storage_errors_total')).toBe(0);
  });

  it('counts the changes of /v1/batch by outcome and entity type, as it counts /v1/push', async () => {
    await start();
    const first = makeChange({ entityId: 'b1', data: { title: 'v1' } });
    const batch = async (changes: Change[]) => {
      const response = await request('/v1/batch', { method: 'POST', body: pushBody(changes) });
      expect(response.status).toBe(200);
      return (await response.json()) as { success: boolean; failed: unknown[] };
    };
    expect(await batch([first, makeChange({ entityId: 'n1', entityType: 'notes', data: { body: 'x' } })])).toEqual({
      success: true,
      failed: [],
    });
    const answer = await batch([
      first,
      makeChange({ entityId: 'b1', operation: 'UPDATE', data: { title: 'stale' }, vector: { other: 3 } }),
      makeChange({ entityId: 'bad', data: { title: 42 } as never }),
    ]);
    expect(answer.failed).toHaveLength(2);

    const metrics = await scrape();
    expect(total(metrics, 'ferry_changes_total', { entity_type: 'todos', outcome: 'applied' })).toBe(1);
    expect(total(metrics, 'ferry_changes_total', { entity_type: 'notes', outcome: 'applied' })).toBe(1);
    expect(total(metrics, 'ferry_changes_total', { entity_type: 'todos', outcome: 'duplicate' })).toBe(1);
    expect(total(metrics, 'ferry_changes_total', { entity_type: 'todos', outcome: 'conflict' })).toBe(1);
    expect(total(metrics, 'ferry_changes_total', { entity_type: 'todos', outcome: 'rejected' })).toBe(1);
    expect(total(metrics, 'ferry_conflicts_total', { entity_type: 'todos', conflict_type: 'update-update' })).toBe(1);
    expect(total(metrics, 'ferry_rejections_total', { entity_type: 'todos', code: 'VALIDATION_ERROR' })).toBe(1);
    expect(total(metrics, 'ferry_http_requests_total', { route: '/v1/batch', status: '200' })).toBe(2);
  });

  it('counts rate-limit refusals by allowance, and the inspector lists who was refused', async () => {
    await start({ adminToken: ADMIN_TOKEN, rateLimit: { pushesPerMinute: 2, pullsPerMinute: 1 } });
    await push([makeChange({ entityId: 'r1' })]);
    await push([makeChange({ entityId: 'r2' })]);
    const refused = await request('/v1/push', { method: 'POST', body: pushBody([makeChange({ entityId: 'r3' })]) });
    expect(refused.status).toBe(429);
    expect((await request('/v1/pull?cursor=0')).status).toBe(200);
    expect((await request('/v1/pull?cursor=0')).status).toBe(429);
    expect((await request('/v1/pull?cursor=0', { token: await t.token('bob') })).status).toBe(200);

    const metrics = await scrape();
    expect(total(metrics, 'ferry_rate_limited_total', { kind: 'push' })).toBe(1);
    expect(total(metrics, 'ferry_rate_limited_total', { kind: 'pull' })).toBe(1);
    expect(total(metrics, 'ferry_http_requests_total', { status: '429' })).toBe(2);
    const overview = (await (await request('/v1/admin/overview', { token: ADMIN_TOKEN })).json()) as {
      rates: Record<'push' | 'pull' | 'limited', { count: number }>;
      rateLimitedUsers: Array<{ user: string; kind: string; count: number }>;
    };
    expect(overview.rates.limited.count).toBe(2);
    // Only the pulls and pushes that were served count in their own rates and latencies.
    expect(overview.rates.pull.count).toBe(2);
    expect(overview.rates.push.count).toBe(2);
    expect(overview.rateLimitedUsers).toEqual([
      expect.objectContaining({ user: 'alice', kind: 'pull', count: 1 }),
      expect.objectContaining({ user: 'alice', kind: 'push', count: 1 }),
    ]);
  });

  it('counts storage errors by kind when the database fails under a request', async () => {
    await start();
    const storage = t.server.storage;
    const failing = Object.assign(new Error('database disk image is malformed'), {
      name: 'SqliteError',
      code: 'SQLITE_CORRUPT',
    });
    const original = storage.applyChanges.bind(storage);
    // Fault injection on the real storage: the next write fails as a corrupt SQLite file would.
    storage.applyChanges = async () => {
      storage.applyChanges = original;
      throw failing;
    };
    const response = await request('/v1/push', { method: 'POST', body: pushBody([makeChange({ entityId: 'x' })]) });
    expect(response.status).toBe(500);
    const metrics = await scrape();
    expect(total(metrics, 'ferry_storage_errors_total', { kind: 'SQLITE_CORRUPT' })).toBe(1);
    expect(total(metrics, 'ferry_internal_errors_total')).toBe(1);
  });

  it('observes how many pushes each durable commit carried (ferry_group_commit_size)', async () => {
    await start();
    // Six users push at once over HTTP: however they group, every push is in exactly one commit.
    const users = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'];
    const tokens = await Promise.all(users.map((user) => t.token(user)));
    const answers = await Promise.all(
      tokens.map((token, index) =>
        request('/v1/push', { method: 'POST', token, body: pushBody([makeChange({ entityId: `g${index}` })]) }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(users.map(() => 200));
    const overHttp = await scrape();
    expect(total(overHttp, 'ferry_group_commit_size_sum')).toBe(6);
    const commits = total(overHttp, 'ferry_group_commit_size_count');
    expect(commits).toBeGreaterThanOrEqual(1);
    expect(commits).toBeLessThanOrEqual(6);
    // Three pushes handed to the storage in one turn of the event loop: one commit of three.
    const decide: ChangeDecider = (input) => ({
      kind: 'skip',
      result: { changeId: input.change.id, status: 'duplicate' },
    });
    await Promise.all(
      ['v1', 'v2', 'v3'].map((scope) => t.server.storage.applyChanges(scope, [makeChange({ entityId: 'x' })], decide)),
    );
    const after = await scrape();
    expect(total(after, 'ferry_group_commit_size_count')).toBe(commits + 1);
    expect(total(after, 'ferry_group_commit_size_sum')).toBe(9);
    expect(total(after, 'ferry_group_commit_size_bucket', { le: '2' })).toBe(
      total(overHttp, 'ferry_group_commit_size_bucket', { le: '2' }),
    );
    expect(total(after, 'ferry_group_commit_size_bucket', { le: '4' })).toBe(
      total(overHttp, 'ferry_group_commit_size_bucket', { le: '4' }) + 1,
    );
  });

  it('counts live connections and the pokes a push sends', async () => {
    await start();
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/live`);
    socket.on('error', () => undefined);
    const messages: string[] = [];
    socket.on('message', (data) => messages.push(data.toString()));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    socket.send(JSON.stringify({ type: 'hello', protocolVersion: PROTOCOL_VERSION, token: await t.token('alice') }));
    for (let i = 0; i < 500 && messages.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(total(await scrape(), 'ferry_live_connections')).toBe(1);
    await push([makeChange({ entityId: 'p1' })]);
    for (let i = 0; i < 500 && !messages.some((m) => m.includes('poke')); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const metrics = await scrape();
    expect(total(metrics, 'ferry_live_pokes_total')).toBe(1);
    socket.terminate();
    for (let i = 0; i < 500 && t.server.live?.size !== 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(total(await scrape(), 'ferry_live_connections')).toBe(0);
  });

  it('refuses /metrics and the admin API without the admin credential, a wrong one or a user token', async () => {
    await start();
    for (const path of ['/metrics', '/v1/admin/overview', '/v1/admin/devices']) {
      expect((await request(path, { token: null })).status).toBe(401);
      expect((await request(path, { token: `${ADMIN_TOKEN}x` })).status).toBe(401);
      expect((await request(path)).status).toBe(401);
      const denied = (await (await request(path, { token: 'short' })).json()) as { error: { code: string } };
      expect(denied.error.code).toBe('UNAUTHORIZED');
      expect((await request(path, { token: ADMIN_TOKEN })).status).toBe(200);
    }
  });

  it('does not mount /metrics, the admin API or the inspector when no admin credential is configured', async () => {
    await start({});
    for (const path of ['/metrics', '/v1/admin/overview', '/inspector']) {
      expect((await request(path, { token: ADMIN_TOKEN })).status).toBe(404);
    }
  });

  it('accepts a user token with an admin claim when adminClaim is on, and refuses one without', async () => {
    await start({ adminClaim: true });
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT({ sub: 'ops', ...claims })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setExpirationTime(Math.floor(T0 / 1000) + 600)
        .sign(new TextEncoder().encode(SECRET));
    expect((await request('/metrics', { token: await sign({ admin: true }) })).status).toBe(200);
    expect((await request('/metrics', { token: await sign({ admin: 'true' }) })).status).toBe(403);
    expect((await request('/metrics', { token: await sign({}) })).status).toBe(403);
    expect((await request('/metrics', { token: null })).status).toBe(401);
  });

  it('refuses to start with an admin token too short to be a secret', async () => {
    await expect(startTestServer({ adminToken: 'short' })).rejects.toThrow(/at least 32/);
  });
});

describe('process metrics', () => {
  /** Enough short-lived garbage to be sure of young-generation collections. */
  async function makeGarbage(): Promise<void> {
    let keep = 0;
    for (let round = 0; round < 200; round++) keep += Array.from({ length: 10_000 }, (_, i) => ({ i })).length;
    expect(keep).toBe(2_000_000);
    // GC entries reach observers asynchronously.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  it('are collected once per process, however many servers it creates', async () => {
    const first = new ServerMetrics();
    await makeGarbage();
    const second = new ServerMetrics();
    await makeGarbage();
    const [a, b] = [parseMetrics(await first.text()), parseMetrics(await second.text())];
    // One collector: both servers report the same process's collections. A collector per server
    // (never removed) would have counted fewer for the second, and cost every GC once per server.
    const gcs = total(a, 'nodejs_gc_duration_seconds_count');
    expect(gcs).toBeGreaterThan(0);
    expect(total(b, 'nodejs_gc_duration_seconds_count')).toBe(gcs);
    expect(a.has('process_cpu_user_seconds_total')).toBe(true);
    expect(total(a, 'ferry_build_info')).toBe(1);
  });
});
