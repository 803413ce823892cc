import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, defaultSchema, type FerryServer, signDevToken } from '@ferry/server';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FuzzRequest, giantBody, hostileRequest } from './malformedInput.js';

const SECRET = 'fuzz-secret-that-is-long-enough-for-hs256';
const CASES = 10_000;
const T0 = 1_764_000_000_000;

let dir: string;
let server: FerryServer;
let reader: Database.Database;
let auth: string;

/** SHA-256 over every row of every table, read through one long-lived connection. */
function hashDb(): string {
  const hash = createHash('sha256');
  const tables = reader.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{
    name: string;
  }>;
  for (const { name } of tables) {
    hash.update(name);
    hash.update(JSON.stringify(reader.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all()));
  }
  return hash.digest('hex');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-fuzz-'));
  const dbPath = join(dir, 'ferry.db');
  server = await createServer({ dbPath, schema: defaultSchema, auth: { secret: SECRET }, now: () => T0, dev: true });
  auth = `Bearer ${await signDevToken(SECRET, 'alice', { now: T0, expiresIn: '1d' })}`;
  // Some data to protect: a rejection must leave it exactly as it is.
  const seeded = await server.app.inject({
    method: 'POST',
    url: '/v1/entities/todos',
    headers: { authorization: auth, 'ferry-protocol': '1', 'content-type': 'application/json' },
    payload: JSON.stringify({ id: 'keep', title: 'keep me', completed: false }),
  });
  expect(seeded.statusCode).toBe(201);
  reader = new Database(dbPath, { readonly: true });
});

afterAll(async () => {
  reader?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

let baseline = '';

/** Sends one request and checks the contract: never 5xx; a 4xx is JSON and changes nothing. */
async function check(request: FuzzRequest): Promise<void> {
  baseline ||= hashDb();
  const response = await server.app.inject({
    method: request.method,
    url: request.url,
    headers: request.headers,
    ...(request.payload === undefined ? {} : { payload: request.payload }),
  });
  const what = `${request.method} ${request.url.slice(0, 120)} → ${response.statusCode} ${response.body.slice(0, 200)}`;
  expect(response.statusCode, what).toBeLessThan(500);
  if (response.statusCode >= 400) {
    expect(response.headers['content-type'], what).toMatch(/^application\/json/);
    const body = response.json() as { error?: { code?: unknown; message?: unknown; retryable?: unknown } };
    expect(typeof body.error?.code, what).toBe('string');
    expect(typeof body.error?.message, what).toBe('string');
    expect(typeof body.error?.retryable, what).toBe('boolean');
    expect(hashDb(), `${what}: a rejected request changed the database`).toBe(baseline);
  } else if (request.method !== 'GET') {
    baseline = hashDb();
  }
  // Prototype pollution would show up on every object.
  expect(({} as Record<string, unknown>).polluted, what).toBeUndefined();
}

describe('every HTTP route under generated malformed input', () => {
  it(`answers ${CASES} hostile requests with JSON 4xx (or a valid 2xx), never a 5xx`, async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(hostileRequest(auth), (request) => check(request)),
      { numRuns: CASES, seed: 20261125, endOnFailure: true },
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(`route fuzz: ${CASES} cases in ${seconds.toFixed(1)} s (${(CASES / seconds).toFixed(0)} cases/s)`);
    // Bounded memory: thousands of bodies up to megabytes must not accumulate.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(512 * 2 ** 20);
  }, 120_000);

  it('renders router errors (a path segment past the limit, a malformed escape) in the error shape', async () => {
    // Found by this fuzzer: these left in Fastify's own body shape, echoing the whole path.
    for (const url of [`/v1/entities/${'x'.repeat(5000)}`, '/v1/entities/todos/%E0%A4%A', '/v1/entities/%zz']) {
      await check({ method: 'GET', url, headers: { authorization: auth, 'ferry-protocol': '1' } });
      await check({ method: 'DELETE', url: `${url}/x`, headers: { authorization: auth, 'ferry-protocol': '1' } });
    }
  });

  it('rejects 10 MB strings and gzip bombs on every body route without growing the heap', async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    const bodies = fc.sample(giantBody, { numRuns: 6, seed: 7 });
    for (const payload of bodies) {
      for (const url of ['/v1/push', '/v1/batch', '/v1/entities/todos', '/v1/entities/notes/keep', '/v1/dev/token']) {
        const gzip = Buffer.isBuffer(payload);
        await check({
          method: url.endsWith('/keep') ? 'PUT' : 'POST',
          url,
          headers: {
            authorization: auth,
            'ferry-protocol': '1',
            'content-type': 'application/json',
            ...(gzip ? { 'content-encoding': 'gzip' } : {}),
          },
          payload,
        });
      }
    }
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(256 * 2 ** 20);
  }, 60_000);
});
