import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Change, encodeHlc, LIVE_CLOSE, PROTOCOL_VERSION } from '@ferry/protocol';
import {
  createServer,
  DEV_TOKEN_AUDIENCE,
  DEV_TOKEN_ISSUER,
  defaultSchema,
  type FerryServer,
  signDevToken,
} from '@ferry/server';
import Database from 'better-sqlite3';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The authorization matrix: every route × every bad token state answers the documented
 * 401 `UNAUTHORIZED` (close 4401 on the live channel) and changes nothing; a valid token of
 * another user reaches only that user's own data, whatever ids it sends.
 */
const SECRET = 'authz-secret-long-enough-for-hs256-signing';
const T0 = 1_764_000_000_000;
const SEC = Math.floor(T0 / 1000);

let dir: string;
let server: FerryServer;
let reader: Database.Database;
const valid = new Map<string, string>();

/** A token with these claims; `exp: null` leaves the expiry out. */
async function sign(
  claims: { sub?: string; iss?: string; aud?: string; exp?: number | null; nbf?: number },
  key = SECRET,
) {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt(SEC - 60);
  if (claims.sub !== undefined) jwt.setSubject(claims.sub);
  jwt.setIssuer(claims.iss ?? DEV_TOKEN_ISSUER).setAudience(claims.aud ?? DEV_TOKEN_AUDIENCE);
  if (claims.exp !== null) jwt.setExpirationTime(claims.exp ?? SEC + 3600);
  if (claims.nbf !== undefined) jwt.setNotBefore(claims.nbf);
  return jwt.sign(new TextEncoder().encode(key));
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Every token state that must be refused, as the `Authorization` header it makes (undefined: none). */
async function badTokens(): Promise<Array<[string, string | undefined]>> {
  const alice = valid.get('alice')!;
  const [head, body] = alice.split('.');
  return [
    ['none', undefined],
    ['malformed', 'Bearer not-a-jwt'],
    ['not bearer', `Basic ${alice}`],
    ['wrong signature', `Bearer ${await sign({ sub: 'alice' }, 'another-secret-long-enough-for-hs256-xx')}`],
    [
      'tampered payload',
      `Bearer ${head}.${b64({ sub: 'bob', iss: DEV_TOKEN_ISSUER, aud: DEV_TOKEN_AUDIENCE, exp: SEC + 3600 })}.${alice.split('.')[2]}`,
    ],
    ['wrong issuer', `Bearer ${await sign({ sub: 'alice', iss: 'someone-else' })}`],
    ['wrong audience', `Bearer ${await sign({ sub: 'alice', aud: 'another-app' })}`],
    ['expired', `Bearer ${await sign({ sub: 'alice', exp: SEC - 3600 })}`],
    // The clock tolerance is 5 s: a token 6 s past its exp is expired.
    ['expired past the 5 s tolerance', `Bearer ${await sign({ sub: 'alice', exp: SEC - 6 })}`],
    // A token without exp would never expire, however it leaked.
    ['without exp', `Bearer ${await sign({ sub: 'alice', exp: null })}`],
    // Stored as UTF-8, "alice\ud800" would become another scope's key ("alice\ufffd").
    ['sub with a lone surrogate', `Bearer ${await sign({ sub: JSON.parse('"alice\\ud800"') })}`],
    // signDevToken counted a string duration from the real clock, ignoring `now`: never expired.
    ['expired dev token', `Bearer ${await signDevToken(SECRET, 'alice', { now: T0 - 7_200_000, expiresIn: '1h' })}`],
    ['not yet valid', `Bearer ${await sign({ sub: 'alice', nbf: SEC + 3600 })}`],
    ['alg none', `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${body}.`],
    ['alg HS512', `Bearer ${b64({ alg: 'HS512', typ: 'JWT' })}.${body}.${alice.split('.')[2]}`],
    ['missing sub', `Bearer ${await sign({})}`],
  ];
}

function change(entityId: string, operation: Change['operation'], title: string): Change {
  const wallTime = T0 + Math.floor(Math.random() * 1000);
  return {
    id: `chg-${entityId}-${title}-${wallTime}`,
    entityType: 'todos',
    entityId,
    operation,
    data: operation === 'DELETE' ? null : { title, completed: false },
    timestamp: wallTime,
    hlc: encodeHlc({ wallTime, counter: 0, node: 'device-a' }),
    version: 9,
    vector: { 'device-a': 9 },
    clientId: 'device-a',
  };
}

/** One request of every authenticated route, aimed at alice's entity `a1`. */
const ROUTES: Array<{ name: string; method: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string; body?: object }> = [
  {
    name: 'push',
    method: 'POST',
    url: '/v1/push',
    body: { clientId: 'device-a', changes: [change('a1', 'UPDATE', 'x')] },
  },
  {
    name: 'batch',
    method: 'POST',
    url: '/v1/batch',
    body: { clientId: 'device-a', changes: [change('a1', 'DELETE', 'y')] },
  },
  { name: 'pull', method: 'GET', url: '/v1/pull?cursor=0&limit=100' },
  { name: 'changes', method: 'GET', url: '/v1/changes?since=0&limit=100' },
  { name: 'entities GET', method: 'GET', url: '/v1/entities/todos' },
  { name: 'entities POST', method: 'POST', url: '/v1/entities/todos', body: { id: 'a1', title: 'taken over' } },
  { name: 'entities PUT', method: 'PUT', url: '/v1/entities/todos/a1', body: { title: 'taken over' } },
  { name: 'entities DELETE', method: 'DELETE', url: '/v1/entities/todos/a1' },
];

function send(route: (typeof ROUTES)[number], authorization: string | undefined) {
  const headers: Record<string, string> = { 'ferry-protocol': String(PROTOCOL_VERSION) };
  if (authorization !== undefined) headers.authorization = authorization;
  if (route.body) headers['content-type'] = 'application/json';
  return server.app.inject({
    method: route.method,
    url: route.url,
    headers,
    ...(route.body ? { payload: JSON.stringify(route.body) } : {}),
  });
}

/** SHA-256 over every row of every table. */
function hashDb(where = ''): string {
  const hash = createHash('sha256');
  const tables = reader.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{
    name: string;
  }>;
  for (const { name } of tables) {
    const columns = (reader.prepare(`PRAGMA table_info("${name}")`).all() as Array<{ name: string }>).map(
      (c) => c.name,
    );
    const scoped = where && columns.includes('scope') ? ` WHERE scope = '${where}'` : '';
    hash.update(name);
    hash.update(JSON.stringify(reader.prepare(`SELECT * FROM "${name}"${scoped} ORDER BY rowid`).all()));
  }
  return hash.digest('hex');
}

async function aliceTodos(): Promise<unknown> {
  const response = await send(ROUTES[4]!, `Bearer ${valid.get('alice')}`);
  return response.json();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-authz-'));
  const dbPath = join(dir, 'ferry.db');
  server = await createServer({
    dbPath,
    schema: defaultSchema,
    auth: { secret: SECRET, issuer: DEV_TOKEN_ISSUER, audience: DEV_TOKEN_AUDIENCE },
    now: () => T0,
  });
  for (const user of ['alice', 'bob']) valid.set(user, await sign({ sub: user }));
  for (const id of ['a1', 'a2']) {
    const created = await send(
      { name: 'seed', method: 'POST', url: '/v1/entities/todos', body: { id, title: `alice ${id}` } },
      `Bearer ${valid.get('alice')}`,
    );
    expect(created.statusCode).toBe(201);
  }
  reader = new Database(dbPath, { readonly: true });
});

afterAll(async () => {
  reader?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('authorization matrix', () => {
  it('refuses every bad token on every route with 401 UNAUTHORIZED and changes nothing', async () => {
    const before = hashDb();
    let cells = 0;
    for (const [state, header] of await badTokens()) {
      for (const route of ROUTES) {
        const response = await send(route, header);
        const where = `${route.name} with ${state}`;
        expect(response.statusCode, where).toBe(401);
        expect(response.json().error, where).toMatchObject({ code: 'UNAUTHORIZED', retryable: false });
        expect(hashDb(), where).toBe(before);
        cells++;
      }
    }
    expect(cells).toBe(16 * ROUTES.length);
  });

  it('serves /v1/config without a token and leaks no user data there', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/v1/config', headers: { 'ferry-protocol': '1' } });
    expect(response.statusCode).toBe(200);
    expect(response.body).not.toContain('alice');
  });

  it("never lets bob's valid token read or change alice's data, whatever ids it sends", async () => {
    const aliceBefore = hashDb('alice');
    const listed = await aliceTodos();
    const bob = `Bearer ${valid.get('bob')}`;
    for (const route of ROUTES) {
      const response = await send(route, bob);
      expect(response.statusCode, route.name).toBeLessThan(500);
      // Whatever bob reads is his own: alice's titles never appear.
      expect(response.body, route.name).not.toContain('alice a');
    }
    // Mass assignment: owner and version fields in the body stay plain data in bob's scope.
    await send(
      {
        name: 'mass',
        method: 'PUT',
        url: '/v1/entities/todos/a2',
        body: { title: 'b', scope: 'alice', version: 99, seq: 1 },
      },
      bob,
    );
    expect(hashDb('alice')).toBe(aliceBefore);
    expect(await aliceTodos()).toEqual(listed);
  });

  it('closes the live channel with 4401 for every bad token, and pokes only the token user', async () => {
    const hello = async (token: string | undefined) => {
      const ws = await server.app.injectWS('/v1/live');
      const messages: string[] = [];
      const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
      ws.on('message', (data) => {
        messages.push(String(data));
        ws.close();
      });
      ws.send(JSON.stringify({ type: 'hello', protocolVersion: PROTOCOL_VERSION, token: token ?? '' }));
      return { code: await closed, messages };
    };
    for (const [state, header] of await badTokens()) {
      const token = header?.replace(/^(Bearer|Basic) /, '');
      // A hello carries the bare token: "not bearer" is a valid token there.
      if (state === 'not bearer') continue;
      const { code, messages } = await hello(token);
      expect(code, state).toBe(LIVE_CLOSE.UNAUTHORIZED);
      expect(messages, state).toEqual([]);
    }
    const bob = await hello(valid.get('bob'));
    const ready = JSON.parse(bob.messages[0] ?? '{}');
    expect(ready.type).toBe('ready');
    // Bob's cursor is his own sequence, not alice's.
    const bobPull = (await send(ROUTES[2]!, `Bearer ${valid.get('bob')}`)).json();
    expect(ready.cursor).toBe(bobPull.cursor);
  });
});
