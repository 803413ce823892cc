/**
 * The transport's own contract, against a real HTTP server on loopback that records what it
 * receives and answers canned JSON. The real Ferry server is tested in @ferry/server.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Change, encodeHlc, PROTOCOL_HEADER, PROTOCOL_VERSION, type ServerRecord } from '@ferry/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HttpError, NetworkError, SyncError, TimeoutError } from '../errors.js';
import { AbortError } from './AbortError.js';
import { HttpRemoteAPI, type HttpRemoteAPIOptions } from './HttpRemoteAPI.js';

interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

/** `'hang'` accepts the request and never answers. */
type Reply = { status?: number; headers?: Record<string, string>; json?: unknown; text?: string } | 'hang';

interface TestServer {
  url: string;
  requests: Recorded[];
  /** Resolves when the next request has been fully received. */
  nextRequest(): Promise<Recorded>;
}

const servers: Server[] = [];

async function startServer(reply: (request: Recorded) => Reply): Promise<TestServer> {
  const requests: Recorded[] = [];
  let waiters: Array<(request: Recorded) => void> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const recorded: Recorded = {
        method: req.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      for (const wake of waiters) wake(recorded);
      waiters = [];
      const answer = reply(recorded);
      if (answer === 'hang') return;
      const headers = { ...answer.headers };
      let payload = answer.text ?? '';
      if (answer.json !== undefined) {
        payload = JSON.stringify(answer.json);
        headers['content-type'] ??= 'application/json';
      }
      res.writeHead(answer.status ?? 200, headers);
      res.end(payload);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    nextRequest: () => new Promise((resolve) => waiters.push(resolve)),
  };
}

afterEach(async () => {
  vi.restoreAllMocks();
  const closing = servers.splice(0).map(
    (server) =>
      new Promise<void>((resolve) => {
        // Hung requests and keep-alive sockets would hold close() open forever.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  await Promise.all(closing);
});

function api(server: TestServer, options: Partial<HttpRemoteAPIOptions> = {}): HttpRemoteAPI {
  return new HttpRemoteAPI({ baseUrl: server.url, ...options });
}

async function rejection(promise: Promise<unknown>): Promise<SyncError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof SyncError)) throw new Error(`expected a SyncError, got ${String(error)}`);
  return error;
}

const HLC = encodeHlc({ wallTime: 1732550000000, counter: 0, node: 'device-a' });

function change(overrides: Partial<Change> = {}): Change {
  return {
    id: 'device-a:1',
    entityType: 'todos',
    entityId: 'todo-1',
    operation: 'CREATE',
    data: { title: 'Buy milk', completed: false },
    timestamp: 1732550000000,
    hlc: HLC,
    version: 1,
    vector: { 'device-a': 1 },
    clientId: 'device-a',
    ...overrides,
  };
}

function record(overrides: Partial<ServerRecord> = {}): ServerRecord {
  return {
    entityType: 'todos',
    entityId: 'todo-1',
    data: { title: 'Buy milk', completed: false },
    deleted: false,
    version: 1,
    vector: { 'device-a': 1 },
    hlc: HLC,
    fieldHlcs: { title: HLC, completed: HLC },
    seq: 1,
    clientId: 'device-a',
    changeId: 'device-a:1',
    ...overrides,
  };
}

const errorJson = (code: string, message: string, retryable: boolean) => ({ error: { code, message, retryable } });

describe('HttpRemoteAPI requests', () => {
  it('sends the protocol version, bearer token and JSON content headers', async () => {
    const server = await startServer(() => ({ json: { results: [], cursor: 0, serverTime: 1 } }));
    await api(server, { getToken: () => 'token-1' }).push({ clientId: 'device-a', changes: [change()] });

    const [request] = server.requests;
    expect(request?.headers[PROTOCOL_HEADER]).toBe(String(PROTOCOL_VERSION));
    expect(request?.headers.authorization).toBe('Bearer token-1');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers.accept).toBe('application/json');
  });

  it('awaits an async getToken before sending', async () => {
    const server = await startServer(() => ({ json: record() }));
    const getToken = async () => {
      await Promise.resolve();
      return 'refreshed';
    };
    await api(server, { getToken }).create('todos', { title: 'x' });
    expect(server.requests[0]?.headers.authorization).toBe('Bearer refreshed');
  });

  it('sends no authorization header when there is no token, and no content-type without a body', async () => {
    const server = await startServer(() => ({ json: { records: [] } }));
    await api(server, { getToken: () => null }).getAll('todos');
    expect(server.requests[0]?.headers.authorization).toBeUndefined();
    expect(server.requests[0]?.headers['content-type']).toBeUndefined();
  });

  it('adds custom headers but never lets them replace the protocol version', async () => {
    const server = await startServer(() => ({ json: { records: [] } }));
    await api(server, { headers: { 'X-App-Version': '3.1', 'Ferry-Protocol': '99' } }).getAll('todos');
    expect(server.requests[0]?.headers['x-app-version']).toBe('3.1');
    expect(server.requests[0]?.headers[PROTOCOL_HEADER]).toBe(String(PROTOCOL_VERSION));
  });

  it('asks getToken for a forced refresh once, on the request after a 401', async () => {
    let calls = 0;
    const server = await startServer(() =>
      calls++ === 0
        ? { status: 401, json: errorJson('UNAUTHORIZED', 'Token expired', false) }
        : { json: { records: [] } },
    );
    const asked: boolean[] = [];
    const client = api(server, {
      getToken: ({ forceRefresh }) => {
        asked.push(forceRefresh);
        return forceRefresh ? 'fresh' : 'stale';
      },
    });
    expect((await rejection(client.getAll('todos'))).code).toBe('AUTH_ERROR');
    await client.getAll('todos');
    await client.getAll('todos');
    expect(asked).toEqual([false, true, false]);
    expect(server.requests[1]?.headers.authorization).toBe('Bearer fresh');
  });

  it('fails with AUTH_ERROR and sends nothing when getToken throws', async () => {
    const server = await startServer(() => ({ json: { records: [] } }));
    const getToken = () => {
      throw new Error('refresh token revoked');
    };
    const error = await rejection(api(server, { getToken }).getAll('todos'));
    expect(error.code).toBe('AUTH_ERROR');
    expect(error.message).toContain('refresh token revoked');
    expect(server.requests).toHaveLength(0);
  });

  it('joins baseUrl with or without a trailing slash, keeping a path prefix', async () => {
    const server = await startServer(() => ({ json: { records: [] } }));
    await new HttpRemoteAPI({ baseUrl: `${server.url}/` }).getAll('todos');
    await new HttpRemoteAPI({ baseUrl: `${server.url}/sync//` }).getAll('todos');
    expect(server.requests.map((request) => request.path)).toEqual(['/v1/entities/todos', '/sync/v1/entities/todos']);
  });

  it('rejects a baseUrl that is not http(s) at construction', () => {
    expect(() => new HttpRemoteAPI({ baseUrl: 'sync.example.com' })).toThrow(/baseUrl must start with http/);
  });
});

describe('HttpRemoteAPI routes', () => {
  it('push: POST /v1/push with the request, returns the validated response', async () => {
    const response = {
      results: [{ changeId: 'device-a:1', status: 'applied', record: record() }],
      cursor: 1,
      serverTime: 5,
    };
    const server = await startServer(() => ({ json: response }));
    const request = { clientId: 'device-a', changes: [change()] };

    await expect(api(server).push(request)).resolves.toEqual(response);
    expect(server.requests[0]).toMatchObject({ method: 'POST', path: '/v1/push' });
    expect(JSON.parse(server.requests[0]?.body ?? '')).toEqual(request);
  });

  it('pull: GET /v1/pull with cursor, limit and comma-joined types', async () => {
    const response = { changes: [record({ seq: 8 })], cursor: 8, hasMore: true, serverTime: 5 };
    const server = await startServer(() => ({ json: response }));

    await expect(api(server).pull({ cursor: 7, limit: 50, types: ['todos', 'notes'] })).resolves.toEqual(response);
    const [request] = server.requests;
    expect(request).toMatchObject({ method: 'GET', path: '/v1/pull', body: '' });
    expect(Object.fromEntries(request?.query ?? [])).toEqual({ cursor: '7', limit: '50', types: 'todos,notes' });
  });

  it('pull: leaves out limit and types when not given (an empty types list is no filter)', async () => {
    const server = await startServer(() => ({ json: { changes: [], cursor: 0, hasMore: false, serverTime: 5 } }));
    await api(server).pull({ cursor: 0, types: [] });
    expect(Object.fromEntries(server.requests[0]?.query ?? [])).toEqual({ cursor: '0' });
  });

  it('getConfig: GET /v1/config', async () => {
    const config = {
      protocolVersion: 1,
      supportedVersions: [1],
      entityTypes: ['todos', 'notes'],
      conflictStrategies: {},
      limits: { maxBodyBytes: 1048576, maxChangesPerPush: 500, maxPullLimit: 1000 },
      serverTime: 1732550000000,
    };
    const server = await startServer(() => ({ json: config }));
    await expect(api(server).getConfig()).resolves.toEqual(config);
    expect(server.requests[0]).toMatchObject({ method: 'GET', path: '/v1/config' });
  });

  it('batchSync: POST /v1/batch with the first change clientId', async () => {
    const failed = [{ changeId: 'device-a:2', error: { code: 'CONFLICT', message: 'stale', retryable: false } }];
    const server = await startServer(() => ({ json: { success: false, failed } }));
    const changes = [change(), change({ id: 'device-a:2', entityId: 'todo-2' })];

    await expect(api(server).batchSync(changes)).resolves.toEqual({ success: false, failed });
    expect(server.requests[0]).toMatchObject({ method: 'POST', path: '/v1/batch' });
    expect(JSON.parse(server.requests[0]?.body ?? '')).toEqual({ clientId: 'device-a', changes });
  });

  it('batchSync: an empty batch succeeds without a request', async () => {
    const server = await startServer(() => ({ status: 500 }));
    await expect(api(server).batchSync([])).resolves.toEqual({ success: true, failed: [] });
    expect(server.requests).toHaveLength(0);
  });

  it('getChangesSince: follows every page and returns the changes without their seq', async () => {
    const first = change({ id: 'device-a:1' });
    const second = change({ id: 'device-a:2', operation: 'DELETE', data: null });
    const server = await startServer((request) =>
      request.query.get('since') === '3'
        ? { json: { changes: [{ ...first, seq: 4 }], cursor: 4, hasMore: true } }
        : { json: { changes: [{ ...second, seq: 5 }], cursor: 5, hasMore: false } },
    );

    await expect(api(server).getChangesSince(3)).resolves.toEqual([first, second]);
    expect(server.requests.map((request) => `${request.path}?${request.query}`)).toEqual([
      '/v1/changes?since=3',
      '/v1/changes?since=4',
    ]);
  });

  it('getChangesSince: a page that says hasMore without advancing the cursor is a protocol error', async () => {
    const server = await startServer(() => ({ json: { changes: [], cursor: 3, hasMore: true } }));
    const error = await rejection(api(server).getChangesSince(3));
    expect(error.code).toBe('PROTOCOL_ERROR');
    expect(server.requests).toHaveLength(1);
  });

  it('getChangesSince: a malformed change inside a page is a protocol error naming it', async () => {
    const server = await startServer(() => ({
      json: { changes: [{ ...change(), operation: 'UPSERT', seq: 1 }], cursor: 1, hasMore: false },
    }));
    const error = await rejection(api(server).getChangesSince(0));
    expect(error.code).toBe('PROTOCOL_ERROR');
    expect(error.message).toContain('changes.0');
  });

  it('getAll: GET /v1/entities/:type returns the records', async () => {
    const records = [record(), record({ entityId: 'todo-2', seq: 2 })];
    const server = await startServer(() => ({ json: { records } }));
    await expect(api(server).getAll('todos')).resolves.toEqual(records);
    expect(server.requests[0]).toMatchObject({ method: 'GET', path: '/v1/entities/todos' });
  });

  it('create: POST /v1/entities/:type with the data, 201 record', async () => {
    const created = record({ entityId: 'abc' });
    const server = await startServer(() => ({ status: 201, json: created }));
    await expect(api(server).create('todos', { id: 'abc', title: 'x' })).resolves.toEqual(created);
    expect(server.requests[0]).toMatchObject({ method: 'POST', path: '/v1/entities/todos' });
    expect(JSON.parse(server.requests[0]?.body ?? '')).toEqual({ id: 'abc', title: 'x' });
  });

  it('update: PUT /v1/entities/:type/:id with the id URL-encoded', async () => {
    const updated = record({ entityId: 'a/b c?d', version: 2 });
    const server = await startServer(() => ({ json: updated }));
    await expect(api(server).update('todos', 'a/b c?d', { completed: true })).resolves.toEqual(updated);
    expect(server.requests[0]).toMatchObject({ method: 'PUT', path: '/v1/entities/todos/a%2Fb%20c%3Fd' });
    expect(JSON.parse(server.requests[0]?.body ?? '')).toEqual({ completed: true });
  });

  it('delete: DELETE /v1/entities/:type/:id, 204', async () => {
    const server = await startServer(() => ({ status: 204 }));
    await expect(api(server).delete('todos', 'todo-1')).resolves.toBeUndefined();
    expect(server.requests[0]).toMatchObject({ method: 'DELETE', path: '/v1/entities/todos/todo-1', body: '' });
  });
});

describe('HttpRemoteAPI errors', () => {
  it.each([
    [400, 'UNKNOWN_ENTITY_TYPE', false, 'VALIDATION_ERROR'],
    [401, 'UNAUTHORIZED', false, 'AUTH_ERROR'],
    [404, 'NOT_FOUND', false, 'VALIDATION_ERROR'],
    [409, 'CONFLICT', false, 'CONFLICT_ERROR'],
    [500, 'INTERNAL', true, 'SERVER_ERROR'],
    [503, 'UNAVAILABLE', true, 'SERVER_ERROR'],
  ])(
    'HTTP %i %s → HttpError with status, serverCode and retryable from the body',
    async (status, serverCode, retryable, code) => {
      const server = await startServer(() => ({
        status,
        json: errorJson(serverCode, `server says ${serverCode}`, retryable),
      }));
      const error = await rejection(api(server).getAll('todos'));

      expect(error).toBeInstanceOf(HttpError);
      expect(error).toMatchObject({ code, status, serverCode, retryable });
      expect(error.message).toContain(`server says ${serverCode}`);
      expect(error.message).toContain('GET /v1/entities/todos');
    },
  );

  it('lets the body override the default retryability of the status', async () => {
    const server = await startServer(() => ({ status: 500, json: errorJson('INTERNAL', 'corrupt row', false) }));
    const error = await rejection(api(server).getConfig());
    expect(error).toMatchObject({ code: 'SERVER_ERROR', retryable: false });
  });

  it('429 with Retry-After seconds → RATE_LIMITED with retryAfterMs', async () => {
    const server = await startServer(() => ({
      status: 429,
      headers: { 'retry-after': '2' },
      json: errorJson('RATE_LIMITED', 'slow down', true),
    }));
    const error = await rejection(api(server).pull({ cursor: 0 }));
    expect(error).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryable: true, retryAfterMs: 2000 });
  });

  it('reads an HTTP-date Retry-After against the injected clock', async () => {
    const retryAt = 'Wed, 21 Oct 2015 07:28:00 GMT';
    const server = await startServer(() => ({ status: 503, headers: { 'retry-after': retryAt }, text: 'maintenance' }));
    const now = () => Date.parse(retryAt) - 30_000;
    const error = await rejection(api(server, { now }).getConfig());
    expect(error).toMatchObject({ code: 'SERVER_ERROR', status: 503, retryAfterMs: 30_000 });
  });

  it('426 → PROTOCOL_ERROR telling the developer to upgrade, with the server message', async () => {
    const server = await startServer(() => ({
      status: 426,
      json: errorJson('UNSUPPORTED_PROTOCOL', 'supported protocol versions: 2, 3', false),
    }));
    const error = await rejection(api(server).push({ clientId: 'device-a', changes: [change()] }));
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ code: 'PROTOCOL_ERROR', status: 426, serverCode: 'UNSUPPORTED_PROTOCOL' });
    expect(error.message).toContain('supported protocol versions: 2, 3');
    expect(error.message).toMatch(/Upgrade the Ferry client or the server/);
  });

  it('a non-JSON error body (a proxy page) still gives an HttpError with a readable message', async () => {
    const server = await startServer(() => ({
      status: 502,
      headers: { 'content-type': 'text/html' },
      text: '<html><body>Bad gateway</body></html>',
    }));
    const error = await rejection(api(server).getConfig());
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ code: 'SERVER_ERROR', status: 502, retryable: true, serverCode: undefined });
    expect(error.message).toContain('Bad gateway');
  });

  it('a 2xx body that violates the schema → PROTOCOL_ERROR naming the path', async () => {
    const server = await startServer(() => ({ json: { results: 'nope', cursor: -1, serverTime: 5 } }));
    const error = await rejection(api(server).push({ clientId: 'device-a', changes: [change()] }));
    expect(error).not.toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ code: 'PROTOCOL_ERROR', retryable: false });
    expect(error.message).toContain('results');
  });

  it('a 2xx body that is not JSON → PROTOCOL_ERROR', async () => {
    const server = await startServer(() => ({ text: '<html>captive portal</html>' }));
    const error = await rejection(api(server).getConfig());
    expect(error.code).toBe('PROTOCOL_ERROR');
    expect(error.message).toContain('captive portal');
  });

  it('a server that never answers → TimeoutError naming the path and the timeout', async () => {
    const server = await startServer(() => 'hang');
    const error = await rejection(api(server, { timeoutMs: 100 }).pull({ cursor: 0 }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ code: 'NETWORK_ERROR', retryable: true });
    expect(error.message).toContain('GET /v1/pull');
    expect(error.message).toContain('100 ms');
  });

  it('an external AbortSignal cancels the request with a non-retryable AbortError', async () => {
    const server = await startServer(() => 'hang');
    const controller = new AbortController();
    const arrived = server.nextRequest();
    const pending = rejection(
      api(server).push({ clientId: 'device-a', changes: [change()] }, { signal: controller.signal }),
    );
    await arrived;
    controller.abort();

    const error = await pending;
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toMatchObject({ name: 'AbortError', code: 'NETWORK_ERROR', retryable: false });
    expect(error.message).toMatch(/POST \/v1\/push was cancelled/);
  });

  it('an already aborted signal sends nothing', async () => {
    const server = await startServer(() => ({ json: { records: [] } }));
    const error = await rejection(api(server).getAll('todos', { signal: AbortSignal.abort() }));
    expect(error).toBeInstanceOf(AbortError);
    expect(server.requests).toHaveLength(0);
  });

  it('a closed port → NetworkError carrying the cause', async () => {
    const server = await startServer(() => ({ json: {} }));
    const closed = servers.pop();
    await new Promise((resolve) => closed?.close(resolve));

    const error = await rejection(api(server).getConfig());
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).not.toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ code: 'NETWORK_ERROR', retryable: true });
    expect(error.cause).toBeInstanceOf(TypeError);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it.each([
    ['an answer', (): Reply => ({ json: { records: [] } }), false],
    ['an HTTP error', (): Reply => ({ status: 500, json: errorJson('INTERNAL', 'boom', true) }), false],
    ['a cancellation', (): Reply => 'hang', true],
  ] as const)('clears its timeout timer after %s', async (_case, reply, cancel) => {
    const server = await startServer(reply);
    const setTimer = vi.spyOn(globalThis, 'setTimeout');
    const clearTimer = vi.spyOn(globalThis, 'clearTimeout');
    const controller = new AbortController();
    const arrived = server.nextRequest();
    const pending = api(server, { timeoutMs: 123_457 })
      .getAll('todos', { signal: controller.signal })
      .catch((error: unknown) => error);
    await arrived;
    if (cancel) controller.abort();
    const outcome = await pending;
    expect(outcome instanceof AbortError).toBe(cancel);

    const ours = setTimer.mock.calls.findIndex((call) => call[1] === 123_457);
    expect(ours).toBeGreaterThanOrEqual(0);
    expect(clearTimer).toHaveBeenCalledWith(setTimer.mock.results[ours]?.value);
  });
});
