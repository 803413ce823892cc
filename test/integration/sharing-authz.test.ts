import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Change,
  encodeHlc,
  MEMBER_TYPE,
  memberEntityId,
  PROTOCOL_VERSION,
  type Role,
  SPACE_TYPE,
} from '@ferry/protocol';
import {
  createServer,
  DEV_TOKEN_AUDIENCE,
  DEV_TOKEN_ISSUER,
  defaultSchema,
  type FerryServer,
  PostgresStorage,
  type ServerStorage,
  SqliteStorage,
} from '@ferry/server';
import Database from 'better-sqlite3';
import { SignJWT } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSqlite } from '../../packages/server/src/testing/testServer.js';
import { type PostgresCluster, postgresAvailable, startPostgres } from '../support/postgres.js';

/**
 * The sharing authorization matrix: 3 users, each owner of one space, editor of another and
 * viewer of the third, plus an outsider, against every route and the live channel, with
 * other spaces' ids, record ids, change ids and cursors. Zero leaks: a space's secret never
 * appears in a response to a non-member; a refused request leaves the database unchanged.
 * Runs on SQLite and on PostgreSQL.
 */
const SECRET = 'sharing-authz-secret-long-enough-for-hs256';
const T0 = 1_764_000_000_000;
const SEC = Math.floor(T0 / 1000);
const USERS = ['alice', 'bob', 'carol'] as const;
type User = (typeof USERS)[number] | 'dave';
/** space → user → role. Each of the three users holds each role once; dave holds none. */
const SPACES: Record<string, Record<string, Role>> = {
  sp_alice0001: { alice: 'owner', bob: 'editor', carol: 'viewer' },
  sp_bob000001: { bob: 'owner', carol: 'editor', alice: 'viewer' },
  sp_carol0001: { carol: 'owner', alice: 'editor', bob: 'viewer' },
};
const SPACE_IDS = Object.keys(SPACES);
const ALL_USERS: User[] = [...USERS, 'dave'];
const secretOf = (space: string) => `secret-of-${space}`;

async function sign(sub: string, extra: Record<string, unknown> = {}) {
  return new SignJWT(extra)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuer(DEV_TOKEN_ISSUER)
    .setAudience(DEV_TOKEN_AUDIENCE)
    .setIssuedAt(SEC - 60)
    .setExpirationTime(SEC + 3600)
    .sign(new TextEncoder().encode(SECRET));
}

let counter = 0;
function change(
  entityType: string,
  entityId: string,
  operation: Change['operation'],
  data: Change['data'],
  space?: string,
  clientId = 'device-x',
): Change {
  counter += 1;
  return {
    id: `chg-${counter}`,
    entityType,
    entityId,
    operation,
    data,
    timestamp: T0 + counter,
    hlc: encodeHlc({ wallTime: T0 + counter, counter: 0, node: clientId }),
    version: counter,
    vector: { [clientId]: counter },
    clientId,
    ...(space === undefined ? {} : { space }),
  };
}

/** A live socket past its hello (`extra` fields ride in the hello), with what it heard and its close code. */
async function openLiveSocket(server: FerryServer, token: string, extra: Record<string, unknown> = {}) {
  const ws = await server.app.injectWS('/v1/live');
  const messages: Array<{ type: string; space?: string }> = [];
  const ready = new Promise<void>((resolve) =>
    ws.on('message', (data) => {
      const message = JSON.parse(String(data));
      messages.push(message);
      if (message.type === 'ready') resolve();
    }),
  );
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  ws.send(JSON.stringify({ type: 'hello', protocolVersion: PROTOCOL_VERSION, token, ...extra }));
  await ready;
  return { ws, messages, closed };
}
type LiveSocket = Awaited<ReturnType<typeof openLiveSocket>>;

/** Waits (bounded: 2 s) until `check` holds. */
async function settle(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

interface Backend {
  name: string;
  open(): Promise<{ storage: ServerStorage; fingerprint(): Promise<string>; close(): Promise<void> }>;
}

async function sqliteBackend(): Promise<Awaited<ReturnType<Backend['open']>>> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-sharing-authz-'));
  const path = join(dir, 'ferry.db');
  const storage = new SqliteStorage(path, { now: () => T0 });
  return {
    storage,
    async fingerprint() {
      const reader = new Database(path, { readonly: true });
      try {
        return hashSqlite(reader);
      } finally {
        reader.close();
      }
    },
    async close() {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let cluster: PostgresCluster | undefined;
async function postgresBackend(): Promise<Awaited<ReturnType<Backend['open']>>> {
  cluster ??= await startPostgres();
  const url = await cluster.createDatabase();
  const storage = await PostgresStorage.open({ connectionString: url, now: () => T0, maxConnections: 4 });
  const reader = new pg.Client({ connectionString: url });
  await reader.connect();
  return {
    storage,
    async fingerprint() {
      const hash = createHash('sha256');
      const { rows: tables } = await reader.query<{ name: string }>(
        `SELECT table_name AS name FROM information_schema.tables
         WHERE table_schema = 'public' AND table_name <> 'ferry_rate_windows' ORDER BY table_name`,
      );
      for (const { name } of tables) {
        // Table names come from the catalogue just read, never from input.
        const { rows } = await reader.query(`SELECT to_jsonb(t)::text AS row FROM "${name}" t ORDER BY 1`);
        hash.update(name);
        hash.update(JSON.stringify(rows));
      }
      return hash.digest('hex');
    },
    async close() {
      await reader.end();
      await storage.close();
    },
  };
}

const backends: Backend[] = [{ name: 'SQLite', open: sqliteBackend }];
if (postgresAvailable()) backends.push({ name: 'PostgreSQL', open: postgresBackend });

afterAll(async () => {
  await cluster?.stop();
});

describe.each(backends)('sharing authorization matrix on $name', (backend) => {
  let server: FerryServer;
  let db: Awaited<ReturnType<Backend['open']>>;
  const tokens = new Map<string, string>();
  /** One record per space, written by its owner: the ids others aim at. */
  const recordOf = (space: string) => `rec-${space}`;
  /** A change id logged in each space: replaying it must not reveal the record. */
  const loggedChangeOf = new Map<string, Change>();

  const call = async (user: User, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown) =>
    server.app.inject({
      method,
      url,
      headers: {
        'ferry-protocol': String(PROTOCOL_VERSION),
        authorization: `Bearer ${tokens.get(user)}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
  const push = (user: User, changes: Change[]) => call(user, 'POST', '/v1/push', { clientId: 'device-x', changes });
  const openLive = (user: User, extra: Record<string, unknown> = {}) =>
    openLiveSocket(server, tokens.get(user) as string, extra);

  beforeAll(async () => {
    db = await backend.open();
    server = await createServer({
      storage: db.storage,
      schema: defaultSchema,
      auth: { secret: SECRET, issuer: DEV_TOKEN_ISSUER, audience: DEV_TOKEN_AUDIENCE },
      now: () => T0,
    });
    for (const user of ALL_USERS) tokens.set(user, await sign(user));
    for (const [space, members] of Object.entries(SPACES)) {
      const owner = Object.keys(members).find((user) => members[user] === 'owner') as User;
      const created = change('todos', recordOf(space), 'CREATE', { title: secretOf(space), completed: false }, space);
      loggedChangeOf.set(space, created);
      const setup = [
        change(SPACE_TYPE, space, 'CREATE', { name: `name-${secretOf(space)}` }, space),
        ...Object.entries(members)
          .filter(([, role]) => role !== 'owner')
          .map(([user, role]) => change(MEMBER_TYPE, memberEntityId(space, user), 'CREATE', { role }, space)),
        created,
      ];
      const response = await push(owner, setup);
      expect(response.statusCode).toBe(200);
      expect(response.json().results.every((r: { status: string }) => r.status === 'applied')).toBe(true);
    }
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await db?.close();
  });

  const roleOf = (user: User, space: string): Role | null => SPACES[space]?.[user] ?? null;

  it('lets each user write exactly where their role writes, and refuses the rest per change with FORBIDDEN', async () => {
    let cells = 0;
    for (const user of ALL_USERS) {
      for (const space of SPACE_IDS) {
        const role = roleOf(user, space);
        const mayWrite = role === 'owner' || role === 'editor';
        const attempts: Change[] = [
          change('todos', `new-${user}-${space}`, 'CREATE', { title: 'x', completed: false }, space),
          change('todos', recordOf(space), 'UPDATE', { title: `${user} was here` }, space),
          change('todos', recordOf(space), 'DELETE', null, space),
        ];
        for (const attempt of attempts) {
          const spaceSeq = await db.storage.currentSeq(space);
          const record = await db.storage.getRecord(space, 'todos', attempt.entityId);
          // A private write rides along: the refused change never blocks the rest of the push.
          const own = change('todos', `own-${attempt.id}`, 'CREATE', { title: 'mine', completed: false });
          const response = await push(user, [attempt, own]);
          const where = `${user} (${role ?? 'none'}) ${attempt.operation} in ${space}`;
          expect(response.statusCode, where).toBe(200);
          const [result, ownResult] = response.json().results;
          expect(ownResult.status, where).toBe('applied');
          if (mayWrite) {
            expect(result.status, where).toBe('applied');
            expect(await db.storage.currentSeq(space), where).toBe(spaceSeq + 1);
          } else {
            expect(result, where).toEqual({
              changeId: attempt.id,
              status: 'rejected',
              error: { code: 'FORBIDDEN', message: expect.any(String), retryable: false },
            });
            expect(response.body, where).not.toContain(secretOf(space));
            expect(await db.storage.currentSeq(space), where).toBe(spaceSeq);
            expect(await db.storage.getRecord(space, 'todos', attempt.entityId), where).toEqual(record);
          }
          cells++;
        }
      }
    }
    expect(cells).toBe(ALL_USERS.length * SPACE_IDS.length * 3);
  });

  it('refuses every refused request without touching the database', async () => {
    for (const user of ALL_USERS) {
      for (const space of SPACE_IDS) {
        const role = roleOf(user, space);
        const refused: Change[] = [];
        if (role !== 'owner') {
          refused.push(change(MEMBER_TYPE, memberEntityId(space, 'dave'), 'CREATE', { role: 'editor' }, space));
          refused.push(change(MEMBER_TYPE, memberEntityId(space, user), 'UPDATE', { role: 'owner' }, space));
          refused.push(change(SPACE_TYPE, space, 'UPDATE', { name: 'taken over' }, space));
        }
        if (role === null || role === 'viewer') {
          refused.push(change('todos', `v-${user}-${space}`, 'CREATE', { title: 'no', completed: false }, space));
          // Replaying a change id logged in the space must not answer with the record.
          refused.push(loggedChangeOf.get(space) as Change);
        }
        // Nobody may create a space whose id exists, owners included.
        refused.push(change(SPACE_TYPE, space, 'CREATE', { name: 'mine' }, space));
        for (const attempt of refused) {
          const before = await db.fingerprint();
          const response = await push(user, [attempt]);
          const where = `${user} (${role ?? 'none'}) ${attempt.entityType} ${attempt.operation} in ${space}`;
          expect(response.statusCode, where).toBe(200);
          expect(response.json().results[0], where).toMatchObject({ status: 'rejected' });
          expect(response.json().results[0].error.code, where).toBe('FORBIDDEN');
          if (role === null) expect(response.body, where).not.toContain(secretOf(space));
          expect(await db.fingerprint(), where).toBe(before);
        }
      }
    }
  });

  it('pulls every space of the user in one request, and only those, whatever checkpoint is sent', async () => {
    for (const user of ALL_USERS) {
      // A checkpoint naming every space, at cursor 0: only memberships are served.
      const checkpoint = Object.fromEntries(SPACE_IDS.map((space) => [space, 0]));
      const response = await call(user, 'POST', '/v1/pull', { private: 0, spaces: checkpoint, limit: 1000 });
      expect(response.statusCode, user).toBe(200);
      const body = response.json();
      const mine = SPACE_IDS.filter((space) => roleOf(user, space) !== null);
      expect(body.membership.map((m: { id: string }) => m.id).sort(), user).toEqual(mine.sort());
      for (const m of body.membership) expect(m.role, `${user} in ${m.id}`).toBe(roleOf(user, m.id));
      for (const page of body.pages) {
        expect(page.space === null || mine.includes(page.space), user).toBe(true);
      }
      for (const space of SPACE_IDS) {
        const member = roleOf(user, space) !== null;
        expect(response.body.includes(secretOf(space)), `${user} reading ${space}`).toBe(member);
      }
      // Old-style and other routes stay in the private space: no space's secret shows there.
      for (const url of ['/v1/pull?cursor=0', '/v1/changes?since=0', '/v1/entities/todos']) {
        const other = await call(user, 'GET', url);
        expect(other.statusCode, `${user} ${url}`).toBe(200);
        for (const space of SPACE_IDS) expect(other.body, `${user} ${url}`).not.toContain(secretOf(space));
      }
      // Naming a space on the private-space routes is refused, not silently served.
      for (const url of [
        `/v1/pull?cursor=0&space=${SPACE_IDS[0]}`,
        `/v1/changes?since=0&space=${SPACE_IDS[0]}`,
        `/v1/entities/todos?space=${SPACE_IDS[0]}`,
      ]) {
        const other = await call(user, 'GET', url);
        expect(other.statusCode, `${user} ${url}`).toBe(400);
      }
    }
  });

  it('writes through the REST routes with a space record id stay in the private space, whatever the role', async () => {
    for (const user of ALL_USERS) {
      for (const space of SPACE_IDS) {
        const where = `${user} (${roleOf(user, space) ?? 'none'}) REST on ${recordOf(space)}`;
        const seq = await db.storage.currentSeq(space);
        const record = await db.storage.getRecord(space, 'todos', recordOf(space));
        // The id does not exist in the user's private space: an update finds nothing.
        const put = await call(user, 'PUT', `/v1/entities/todos/${recordOf(space)}`, { title: user });
        expect(put.statusCode, where).toBe(404);
        // A delete, a create and a listing with that id act on (or read) the private space only.
        const removed = await call(user, 'DELETE', `/v1/entities/todos/${recordOf(space)}`);
        expect(removed.statusCode, where).toBe(404);
        const created = await call(user, 'POST', '/v1/entities/todos', {
          id: recordOf(space),
          title: `${user}'s own`,
          completed: false,
        });
        expect(created.statusCode, where).toBe(201);
        const listed = await call(user, 'GET', `/v1/entities/todos?limit=1000`);
        for (const response of [put, removed, created, listed]) {
          for (const other of SPACE_IDS) expect(response.body, where).not.toContain(secretOf(other));
        }
        expect((await call(user, 'DELETE', `/v1/entities/todos/${recordOf(space)}`)).statusCode, where).toBe(204);
        expect(await db.storage.currentSeq(space), where).toBe(seq);
        expect(await db.storage.getRecord(space, 'todos', recordOf(space)), where).toEqual(record);
      }
    }
  });

  it('refuses a space on the private-space routes with a clear 400 that changes nothing', async () => {
    for (const user of ALL_USERS) {
      for (const space of SPACE_IDS) {
        const q = `space=${space}`;
        const requests: Array<['GET' | 'POST' | 'PUT' | 'DELETE', string, unknown?]> = [
          ['GET', `/v1/pull?cursor=0&${q}`],
          ['GET', `/v1/changes?since=0&${q}`],
          ['GET', `/v1/entities/todos?${q}`],
          ['POST', `/v1/entities/todos?${q}`, { id: `in-${space}`, title: 'x', completed: false }],
          ['PUT', `/v1/entities/todos/${recordOf(space)}?${q}`, { title: 'x' }],
          ['DELETE', `/v1/entities/todos/${recordOf(space)}?${q}`],
        ];
        for (const [method, url, body] of requests) {
          const where = `${user} (${roleOf(user, space) ?? 'none'}) ${method} ${url}`;
          const before = await db.fingerprint();
          const response = await call(user, method, url, body);
          expect(response.statusCode, where).toBe(400);
          expect(response.json().error, where).toMatchObject({ code: 'VALIDATION_ERROR', retryable: false });
          expect(response.json().error.message, where).toContain('private space only');
          expect(response.body, where).not.toContain(secretOf(space));
          expect(await db.fingerprint(), where).toBe(before);
        }
      }
    }
  });

  it('answers no cursor of another space: GET pull and changes stay private, POST pull serves members only', async () => {
    const seqs = new Map<string, number>();
    for (const space of SPACE_IDS) seqs.set(space, await db.storage.currentSeq(space));
    for (const user of ALL_USERS) {
      const before = await db.fingerprint();
      for (const space of SPACE_IDS) {
        const seq = seqs.get(space) ?? 0;
        // Cursors taken from the other spaces: just below their head, at it, far past it.
        for (const cursor of [0, Math.max(0, seq - 1), seq, 1_000_000]) {
          for (const url of [`/v1/pull?cursor=${cursor}`, `/v1/changes?since=${cursor}`]) {
            const response = await call(user, 'GET', url);
            expect(response.statusCode, `${user} ${url}`).toBe(200);
            for (const other of SPACE_IDS) expect(response.body, `${user} ${url}`).not.toContain(secretOf(other));
          }
          const pulled = await call(user, 'POST', '/v1/pull', { spaces: { [space]: cursor }, limit: 1000 });
          expect(pulled.statusCode, `${user} POST pull ${space}@${cursor}`).toBe(200);
          const member = roleOf(user, space) !== null;
          const pages = pulled.json().pages as Array<{ space: string | null }>;
          if (!member) {
            expect(
              pages.some((page) => page.space === space),
              `${user} POST pull ${space}@${cursor}`,
            ).toBe(false);
            expect(pulled.body, `${user} POST pull ${space}@${cursor}`).not.toContain(secretOf(space));
          }
        }
      }
      // Reads never write.
      expect(await db.fingerprint(), user).toBe(before);
    }
  });

  it('decides /v1/batch per change exactly as /v1/push, and leaves the database unchanged on refusal', async () => {
    let cells = 0;
    for (const user of ALL_USERS) {
      for (const space of SPACE_IDS) {
        const role = roleOf(user, space);
        const attempts: Array<{ change: Change; allowed: boolean }> = [
          {
            change: change('todos', `batch-${user}-${space}`, 'CREATE', { title: 'b', completed: false }, space),
            allowed: role === 'owner' || role === 'editor',
          },
          {
            change: change(MEMBER_TYPE, memberEntityId(space, 'erin'), 'CREATE', { role: 'viewer' }, space),
            allowed: role === 'owner',
          },
          {
            change: change(SPACE_TYPE, space, 'UPDATE', { name: `name-${secretOf(space)}` }, space),
            allowed: role === 'owner',
          },
          { change: loggedChangeOf.get(space) as Change, allowed: role !== null && role !== 'viewer' },
        ];
        for (const { change: attempt, allowed } of attempts) {
          const where = `${user} (${role ?? 'none'}) batch ${attempt.entityType} ${attempt.operation} in ${space}`;
          const before = await db.fingerprint();
          const response = await call(user, 'POST', '/v1/batch', { clientId: 'device-x', changes: [attempt] });
          expect(response.statusCode, where).toBe(200);
          const body = response.json();
          if (allowed) {
            expect(body, where).toEqual({ success: true, failed: [] });
          } else {
            expect(body, where).toEqual({
              success: false,
              failed: [
                { changeId: attempt.id, error: { code: 'FORBIDDEN', message: expect.any(String), retryable: false } },
              ],
            });
            if (role === null) expect(response.body, where).not.toContain(secretOf(space));
            expect(await db.fingerprint(), where).toBe(before);
          }
          cells++;
        }
      }
    }
    expect(cells).toBe(ALL_USERS.length * SPACE_IDS.length * 4);
  });

  it('refuses malformed checkpoints with 400 and a clear message', async () => {
    for (const body of [
      { spaces: { alice: 0 } },
      { spaces: { sp_alice0001: -1 } },
      { spaces: [] },
      { private: 'x' },
      { limit: 0 },
      { limit: 100_000 },
      { types: ['nope'] },
      { extra: 1 },
    ]) {
      const response = await call('alice', 'POST', '/v1/pull', body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json().error.message, JSON.stringify(body)).toMatch(/\w/);
    }
  });

  it('never lets a live socket pick a space: naming one after the hello closes it, in the hello it is ignored', async () => {
    const space = 'sp_bob000001';
    const bounded = (closed: Promise<number>) =>
      Promise.race([closed, new Promise<number>((resolve) => setTimeout(() => resolve(-1), 5000))]);
    const asking: Array<{ user: User; socket: LiveSocket }> = [];
    for (const user of ALL_USERS) {
      const after = await openLive(user);
      after.ws.send(JSON.stringify({ type: 'subscribe', space }));
      expect(await bounded(after.closed), `${user} subscribe after hello`).toBe(4400);
      asking.push({ user, socket: await openLive(user, { space, spaces: [space] }) });
    }
    await push('bob', [change('todos', 'live-asked', 'CREATE', { title: 'asked', completed: false }, space)]);
    const members = ALL_USERS.filter((user) => roleOf(user, space) !== null);
    const poked = (user: User) =>
      asking.find((entry) => entry.user === user)?.socket.messages.some((m) => m.type === 'poke' && m.space === space);
    await settle(() => members.every(poked));
    expect(ALL_USERS.filter((user) => poked(user))).toEqual(members);
    for (const { socket } of asking) socket.ws.terminate();
  });

  it('pokes a space only to its members, and stops poking a revoked member after the revocation', async () => {
    const sockets = new Map<User, LiveSocket>();
    for (const user of ALL_USERS) sockets.set(user, await openLive(user));
    const pokesOf = (user: User, space: string) =>
      (sockets.get(user)?.messages ?? []).filter((m) => m.type === 'poke' && m.space === space).length;
    // A write in each space pokes exactly its three members, and never the outsider.
    for (const other of SPACE_IDS) {
      const owner = USERS.find((user) => roleOf(user, other) === 'owner') as User;
      await push(owner, [change('todos', `live-${other}`, 'CREATE', { title: 'live', completed: false }, other)]);
      await settle(() => USERS.every((user) => pokesOf(user, other) === 1));
      expect(
        ALL_USERS.map((user) => pokesOf(user, other)),
        other,
      ).toEqual([1, 1, 1, 0]);
    }
    const space = 'sp_alice0001';
    // Revoking bob: his devices hear of that commit once (so they pull and purge), then never again.
    await push('alice', [change(MEMBER_TYPE, memberEntityId(space, 'bob'), 'DELETE', null, space)]);
    await settle(() => pokesOf('bob', space) === 2);
    await push('alice', [change('todos', 'live-2', 'CREATE', { title: 'after', completed: false }, space)]);
    await settle(() => pokesOf('carol', space) === 3);
    expect(ALL_USERS.map((user) => pokesOf(user, space))).toEqual([3, 2, 3, 0]);
    // Bob's next pull shows the space gone and serves none of it.
    const pulled = await call('bob', 'POST', '/v1/pull', { spaces: { [space]: 0 } });
    expect(pulled.json().membership.map((m: { id: string }) => m.id)).not.toContain(space);
    expect(pulled.body).not.toContain(secretOf(space));
    for (const socket of sockets.values()) socket.ws.terminate();
  });
});

describe('membership from the token', () => {
  let server: FerryServer;
  let db: Awaited<ReturnType<typeof sqliteBackend>>;
  const space = 'sp_team00001';
  const call = async (token: string, method: 'GET' | 'POST', url: string, body?: unknown) =>
    server.app.inject({
      method,
      url,
      headers: {
        'ferry-protocol': String(PROTOCOL_VERSION),
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    db = await sqliteBackend();
    server = await createServer({
      storage: db.storage,
      schema: defaultSchema,
      auth: { secret: SECRET, issuer: DEV_TOKEN_ISSUER, audience: DEV_TOKEN_AUDIENCE },
      now: () => T0,
      membership: { source: 'token', claim: 'teams' },
    });
  });
  afterAll(async () => {
    await server?.close();
    await db?.close();
  });

  it('takes roles from the claim: editors write, viewers read, others see nothing', async () => {
    const editor = await sign('erin', { teams: { [space]: 'editor' } });
    const viewer = await sign('vic', { teams: { [space]: 'viewer' } });
    const outsider = await sign('otto', {});
    const write = change('todos', 'team-1', 'CREATE', { title: 'team secret', completed: false }, space);
    const pushed = await call(editor, 'POST', '/v1/push', { clientId: 'device-x', changes: [write] });
    expect(pushed.json().results[0].status).toBe('applied');
    const refused = await call(viewer, 'POST', '/v1/push', {
      clientId: 'device-x',
      changes: [change('todos', 'team-2', 'CREATE', { title: 'v', completed: false }, space)],
    });
    expect(refused.json().results[0].error.code).toBe('FORBIDDEN');
    const viewerPull = await call(viewer, 'POST', '/v1/pull', {});
    expect(viewerPull.json().membership).toEqual([{ id: space, name: space, role: 'viewer' }]);
    expect(viewerPull.body).toContain('team secret');
    const outsiderPull = await call(outsider, 'POST', '/v1/pull', { spaces: { [space]: 0 } });
    expect(outsiderPull.json()).toMatchObject({ membership: [], pages: [] });
  });

  it("pokes a token-granted space to exactly the sockets whose token grants it, and stops with the token's socket", async () => {
    const other = 'sp_other0001';
    const erin = await openLiveSocket(server, await sign('erin', { teams: { [space]: 'editor' } }));
    const vic = await openLiveSocket(server, await sign('vic', { teams: { [space]: 'viewer', [other]: 'viewer' } }));
    const otto = await openLiveSocket(server, await sign('otto', { teams: { [other]: 'viewer' } }));
    // Vic's role was revoked: the app's backend issues his next token without the space.
    const vicLater = await openLiveSocket(server, await sign('vic', { teams: { [other]: 'viewer' } }));
    const live = server.live;
    if (!live) throw new Error('the live channel is on by default');
    expect([live.tokenSpaceConnections(space), live.tokenSpaceConnections(other)]).toEqual([2, 3]);
    const pokes = (socket: LiveSocket) => socket.messages.filter((m) => m.type === 'poke' && m.space === space).length;
    const write = async (id: string) => {
      const token = await sign('erin', { teams: { [space]: 'editor' } });
      const changes = [change('todos', id, 'CREATE', { title: id, completed: false }, space)];
      expect((await call(token, 'POST', '/v1/push', { clientId: 'device-x', changes })).statusCode).toBe(200);
    };
    await write('poke-1');
    await settle(() => pokes(erin) === 1 && pokes(vic) === 1);
    expect([erin, vic, otto, vicLater].map(pokes)).toEqual([1, 1, 0, 0]);
    // The old token's socket goes (the device reconnects with the fresh token): from then on
    // nothing of the space reaches vic, and the index holds only erin.
    vic.ws.terminate();
    await settle(() => live.tokenSpaceConnections(space) === 1);
    expect(live.tokenSpaceConnections(space)).toBe(1);
    await write('poke-2');
    await settle(() => pokes(erin) === 2);
    expect([erin, vic, otto, vicLater].map(pokes)).toEqual([2, 1, 0, 0]);
    for (const socket of [erin, otto, vicLater]) socket.ws.terminate();
    await settle(() => live.tokenSpaceConnections(other) === 0);
    expect([live.tokenSpaceConnections(space), live.tokenSpaceConnections(other)]).toEqual([0, 0]);
  });

  it('refuses Ferry-managed membership changes with FORBIDDEN, and a malformed claim with 401', async () => {
    const owner = await sign('olga', { teams: { [space]: 'owner' } });
    const before = await db.fingerprint();
    const response = await call(owner, 'POST', '/v1/push', {
      clientId: 'device-x',
      changes: [change(MEMBER_TYPE, memberEntityId(space, 'mallory'), 'CREATE', { role: 'editor' }, space)],
    });
    expect(response.json().results[0]).toMatchObject({ status: 'rejected', error: { code: 'FORBIDDEN' } });
    expect(await db.fingerprint()).toBe(before);
    for (const teams of [['sp_team00001'], { alice: 'owner' }, { [space]: 'admin' }]) {
      const bad = await sign('olga', { teams });
      const pulled = await call(bad, 'POST', '/v1/pull', {});
      expect(pulled.statusCode, JSON.stringify(teams)).toBe(401);
    }
  });

  it('refuses a token whose sub could be taken for a shared space', async () => {
    const response = await call(await sign('sp_team00001'), 'POST', '/v1/pull', {});
    expect(response.statusCode).toBe(401);
    expect(response.json().error.message).toContain('sp_');
  });
});
