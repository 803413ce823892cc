/**
 * Two server instances, each with its own PostgreSQL storage and connection pool as separate
 * processes would have, over real HTTP on loopback: a user's allowance is one allowance, however
 * the requests are spread across them.
 */
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from '@ferry/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresCluster, postgresAvailable, startPostgres } from '../../../../test/support/postgres.js';
import { signDevToken } from '../auth/signDevToken.js';
import { createServer, type FerryServer } from '../createServer.js';
import { defaultSchema } from '../defaultSchema.js';
import { PostgresStorage } from '../storage/PostgresStorage.js';
import { makeChange, pushBody, SECRET, T0 } from '../testing/testServer.js';

const available = postgresAvailable();
let cluster: PostgresCluster;
const storages: PostgresStorage[] = [];
const servers: FerryServer[] = [];
const urls: string[] = [];
// Mid-window and frozen, so the whole test runs in one window whatever the real time.
const clock = { now: T0 - (T0 % 60_000) + 20_000 };

beforeAll(async () => {
  if (!available) return;
  cluster = await startPostgres();
  const db = await cluster.createDatabase();
  for (let i = 0; i < 2; i += 1) {
    const storage = await PostgresStorage.open({ connectionString: db, maxConnections: 4 });
    storages.push(storage);
    const server = await createServer({
      storage,
      schema: defaultSchema,
      auth: { secret: SECRET },
      now: () => clock.now,
      live: false,
      rateLimit: { pushesPerMinute: 5, pullsPerMinute: 4 },
    });
    servers.push(server);
    urls.push((await server.listen({ port: 0, host: '127.0.0.1' })).url);
  }
}, 90_000);

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await Promise.all(storages.map((storage) => storage.close()));
  await cluster?.stop();
});

async function call(url: string, user: string, method: 'GET' | 'POST', path: string, body?: unknown) {
  const token = await signDevToken(SECRET, user, { now: clock.now });
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  await response.arrayBuffer();
  return { status: response.status, retryAfter: response.headers.get('retry-after') };
}

describe.skipIf(!available)('rate limits across server processes on one PostgreSQL', () => {
  it('holds a user to one allowance, alternating between servers', async () => {
    const statuses: number[] = [];
    for (let n = 0; n < 8; n += 1) {
      const body = pushBody([makeChange({ id: `c${n}`, entityId: `t${n}` })]);
      statuses.push((await call(urls[n % 2] as string, 'alice', 'POST', '/v1/push', body)).status);
    }
    // Per-process counting would have let all 8 through (4 per server, under 5 each).
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    const refused = await call(urls[0] as string, 'alice', 'POST', '/v1/push', pushBody([]));
    expect(refused).toEqual({ status: 429, retryAfter: '40' });
  });

  it('holds under concurrent requests to both servers: exactly the limit gets through', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, n) => call(urls[n % 2] as string, 'bob', 'GET', '/v1/pull?cursor=0')),
    );
    const counts = { ok: 0, limited: 0 };
    for (const { status } of results) {
      if (status === 200) counts.ok += 1;
      else if (status === 429) counts.limited += 1;
    }
    expect(counts).toEqual({ ok: 4, limited: 8 });
  });

  it('keeps users apart', async () => {
    expect((await call(urls[1] as string, 'carol', 'GET', '/v1/pull?cursor=0')).status).toBe(200);
  });
});
