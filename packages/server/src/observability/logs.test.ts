import { Writable } from 'node:stream';
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from '@ferry/protocol';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type PostgresCluster, postgresAvailable, startPostgres } from '../../../../test/support/postgres.js';
import { PostgresStorage } from '../storage/PostgresStorage.js';
import type { ServerStorage } from '../storage/ServerStorage.js';
import { makeChange, pushBody, startTestServer, type TestServer } from '../testing/testServer.js';

const ADMIN_TOKEN = 'admin-token-zz-that-is-long-enough-0123456789';
/** In every record written: no log line may ever contain it. */
const CONTENT = 'zebra-quartz-7731';

/** Collects pino's JSON lines. */
function logSink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((line) => line !== ''),
      );
      done();
    },
  });
  return { lines, stream };
}

/** Errors a database or parser really throws, each quoting {@link CONTENT} in its message or detail. */
type ErrorSource = () => Promise<Error[]>;

/** Runs `sql` on `url` and returns the error PostgreSQL answers with. */
async function postgresError(url: string, statements: Array<[string, unknown[]]>): Promise<Error> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    for (const [sql, params] of statements) await client.query(sql, params);
  } catch (error) {
    return error as Error;
  } finally {
    await client.end();
  }
  throw new Error('Expected PostgreSQL to refuse the statements');
}

/** JSON.parse quotes the text it choked on in its message. */
const parserErrors: ErrorSource = async () => {
  try {
    JSON.parse(CONTENT);
  } catch (error) {
    return [error as Error];
  }
  throw new Error('Expected JSON.parse to throw');
};

/** Three real PostgreSQL errors: the value in the message, in `detail`, and in `where`. */
const postgresErrors =
  (url: string): ErrorSource =>
  async () => [
    await postgresError(url, [['SELECT $1::int', [CONTENT]]]),
    await postgresError(url, [
      ['CREATE TEMP TABLE log_probe (id text PRIMARY KEY)', []],
      ['INSERT INTO log_probe VALUES ($1)', [CONTENT]],
      ['INSERT INTO log_probe VALUES ($1)', [CONTENT]],
    ]),
    await postgresError(url, [['SELECT $1::jsonb', [`{"title": "${CONTENT}\\u0000"}`]]]),
  ];

const available = postgresAvailable();
let cluster: PostgresCluster | undefined;
beforeAll(async () => {
  if (available) cluster = await startPostgres();
}, 90_000);
afterAll(async () => {
  await cluster?.stop();
});

describe.each([
  { name: 'SQLite', postgres: false },
  { name: 'PostgreSQL', postgres: true },
])('structured logs on $name', ({ postgres }) => {
  let t: TestServer | undefined;
  let storage: ServerStorage | undefined;
  afterEach(async () => {
    await t?.close();
    await storage?.close();
    t = undefined;
    storage = undefined;
  });

  it.skipIf(postgres && !available)(
    'write one line per request with ids and counts, and never a token, record content or database detail',
    async () => {
      const sink = logSink();
      let errors: ErrorSource = parserErrors;
      if (postgres) {
        const url = await (cluster as PostgresCluster).createDatabase();
        storage = await PostgresStorage.open({ connectionString: url });
        errors = postgresErrors(url);
      }
      t = await startTestServer({
        adminToken: ADMIN_TOKEN,
        dev: true,
        logger: { level: 'debug', stream: sink.stream },
        ...(storage ? { storage } : {}),
      });
      const { url } = await t.server.listen({ port: 0, host: '127.0.0.1' });
      const tokens = [await t.token('alice'), await t.token('bob'), ADMIN_TOKEN];
      let requests = 0;
      const call = async (path: string, init: { method?: string; body?: string; token?: string | null } = {}) => {
        requests += 1;
        const headers: Record<string, string> = { [PROTOCOL_HEADER]: String(PROTOCOL_VERSION) };
        const token = init.token === undefined ? tokens[0] : init.token;
        if (token) headers.authorization = `Bearer ${token}`;
        if (init.body !== undefined) headers['content-type'] = 'application/json';
        const response = await fetch(`${url}${path}`, {
          method: init.method ?? 'GET',
          headers,
          ...(init.body === undefined ? {} : { body: init.body }),
          signal: AbortSignal.timeout(5_000),
        });
        return { status: response.status, text: await response.text() };
      };
      const push = (changes: unknown[], token?: string) =>
        call('/v1/push', {
          method: 'POST',
          body: JSON.stringify(pushBody(changes as never)),
          ...(token ? { token } : {}),
        });

      const first = makeChange({ entityId: 't1', data: { title: `${CONTENT} one`, completed: false } });
      expect((await push([first, makeChange({ entityId: 't2', data: { title: `${CONTENT} two` } })])).status).toBe(200);
      await push([first]);
      await push([makeChange({ entityId: 't1', operation: 'UPDATE', data: { title: CONTENT }, vector: { x: 5 } })]);
      const rejected = await push([
        makeChange({ entityId: 't3', data: { title: CONTENT, completed: CONTENT } as never }),
      ]);
      expect(rejected.text).toContain('rejected');
      await push([makeChange({ entityId: 'b1', data: { title: CONTENT } })], tokens[1]);
      expect((await call('/v1/pull?cursor=0&limit=10')).text).toContain(CONTENT);
      await call('/v1/pull', { method: 'POST', body: JSON.stringify({ private: 0, spaces: {} }) });
      await call('/v1/changes?since=0');
      await call('/v1/entities/todos', { method: 'POST', body: JSON.stringify({ data: { title: CONTENT } }) });
      await call('/v1/entities/todos');
      // Malformed JSON whose text holds the content: a parser message could quote it.
      expect((await call('/v1/push', { method: 'POST', body: `{"clientId":"${CONTENT}` })).status).toBe(400);
      expect((await call('/v1/push', { method: 'POST', body: `"${CONTENT}"` })).status).toBe(400);
      expect((await call('/v1/push', { method: 'POST', body: `{"clientId": ${CONTENT}}` })).status).toBe(400);
      // A token in the query string, and a forged bearer token.
      await call(`/v1/pull?token=${tokens[0]}`);
      expect((await call('/v1/pull', { token: `${tokens[0]}x` })).status).toBe(401);
      const signed = await call('/v1/dev/token', {
        method: 'POST',
        body: JSON.stringify({ userId: 'carol' }),
        token: null,
      });
      tokens.push((JSON.parse(signed.text) as { token: string }).token);
      expect((await call('/metrics', { token: ADMIN_TOKEN })).status).toBe(200);
      expect((await call('/v1/admin/devices', { token: ADMIN_TOKEN })).text).not.toContain(CONTENT);
      expect((await call('/v1/admin/overview', { token: `${ADMIN_TOKEN}!` })).status).toBe(401);

      // The live channel: a token in the hello message.
      const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/live`);
      socket.on('error', () => undefined);
      const ready = new Promise<void>((resolve) => socket.on('message', () => resolve()));
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      });
      socket.send(JSON.stringify({ type: 'hello', protocolVersion: PROTOCOL_VERSION, token: tokens[0] }));
      await Promise.race([ready, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      await push([makeChange({ entityId: 't9', data: { title: CONTENT } })]);
      socket.terminate();
      // A live socket whose hello carries a forged token: refused, and logged without it.
      const forged = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/live`);
      forged.on('error', () => undefined);
      const refused = new Promise<void>((resolve) => forged.once('close', () => resolve()));
      await new Promise<void>((resolve, reject) => {
        forged.once('open', () => resolve());
        forged.once('error', reject);
      });
      forged.send(JSON.stringify({ type: 'hello', protocolVersion: PROTOCOL_VERSION, token: `${tokens[1]}x` }));
      await Promise.race([refused, new Promise((resolve) => setTimeout(resolve, 5_000))]);

      // Real errors under a push (fault injection on the real storage): each quotes the content.
      const thrown = await errors();
      const original = t.server.storage.applyChanges.bind(t.server.storage);
      for (const error of thrown) {
        expect(`${error.message} ${JSON.stringify(error)}`).toContain(CONTENT);
        t.server.storage.applyChanges = async () => {
          throw error;
        };
        expect((await push([makeChange({ entityId: 'e1', data: { title: CONTENT } })])).status).toBe(500);
      }
      t.server.storage.applyChanges = original;
      await t.close();

      const text = sink.lines.join('\n');
      for (const token of tokens) {
        expect(text).not.toContain(token);
        // A JWT's signature alone would be enough to replay it.
        const signature = token.split('.').at(-1) as string;
        expect(text).not.toContain(signature);
      }
      expect(text).not.toContain(CONTENT);
      expect(text).not.toMatch(/authorization/i);

      const entries = sink.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      const perRequest = entries.filter((entry) => entry.msg === 'request');
      // One line per HTTP request and one for the WebSocket upgrade, each with its own id.
      expect(perRequest).toHaveLength(requests + 2);
      const live = perRequest.filter((entry) => entry.route === '/v1/live');
      expect(live).toEqual([
        expect.objectContaining({ method: 'GET', status: 101, live: 'ready', user: 'alice', ms: expect.any(Number) }),
        expect.objectContaining({ method: 'GET', status: 101, live: 'refused', closeCode: expect.any(Number) }),
      ]);
      expect(live[1]).not.toHaveProperty('user');
      // The 5xx lines say what failed (type, code, frames) without the data.
      const failures = entries.filter((entry) => entry.msg === 'request failed');
      expect(failures).toHaveLength(thrown.length);
      expect(failures.map((entry) => (entry.error as { code?: string }).code)).toEqual(
        thrown.map((error) => (error as { code?: string }).code),
      );
      expect(text).not.toMatch(/already exists|JSON data, line/);
      expect(new Set(perRequest.map((entry) => entry.reqId)).size).toBe(perRequest.length);
      expect(perRequest[0]).toMatchObject({
        method: 'POST',
        route: '/v1/push',
        status: 200,
        user: 'alice',
        applied: 2,
      });
      expect(perRequest[1]).toMatchObject({ user: 'alice', duplicate: 1 });
      expect(perRequest[2]).toMatchObject({ conflict: 1 });
      expect(perRequest[3]).toMatchObject({ rejected: 1 });
      expect(perRequest[4]).toMatchObject({ user: 'bob', applied: 1 });
      expect(perRequest[5]).toMatchObject({ route: '/v1/pull', method: 'GET', served: 2 });
      expect(perRequest.every((entry) => typeof entry.ms === 'number')).toBe(true);
    },
  );
});
