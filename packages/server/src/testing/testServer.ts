import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Change, encodeHlc, PROTOCOL_HEADER, PROTOCOL_VERSION } from '@ferry/protocol';
import Database from 'better-sqlite3';
import type { LightMyRequestResponse } from 'fastify';
import { signDevToken } from '../auth/signDevToken.js';
import { type CreateServerOptions, createServer, type FerryServer } from '../createServer.js';
import { defaultSchema } from '../defaultSchema.js';

/** The wall clock tests start at; servers under test run on a settable virtual clock. */
export const T0 = 1_732_550_000_000;
export const SECRET = 'test-secret-that-is-long-enough-for-hs256!!';

/** Options of a request made with {@link TestServer.call}. */
export interface CallOptions {
  /** User to sign a token for; `null` sends no Authorization header. Default `alice`. */
  as?: string | null;
  body?: unknown;
  /** Sent verbatim instead of `JSON.stringify(body)`. */
  rawBody?: string | Buffer;
  headers?: Record<string, string | undefined>;
}

/** A server on a temp SQLite file, a virtual clock, and helpers to call it and fingerprint its data. */
export interface TestServer {
  server: FerryServer;
  dbPath: string;
  clock: { now: number };
  token(user: string, options?: { expiresIn?: string | number }): Promise<string>;
  call(method: string, url: string, options?: CallOptions): Promise<LightMyRequestResponse>;
  /** SHA-256 of every row of every table: equal hashes mean nothing was written. */
  hashDb(): string;
  close(): Promise<void>;
}

/** SHA-256 of every row of every table of an open SQLite database: equal hashes mean nothing was written. */
export function hashSqlite(db: Database.Database): string {
  const hash = createHash('sha256');
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{
    name: string;
  }>;
  for (const { name } of tables) {
    hash.update(name);
    // Table names come from the catalogue, never from input.
    hash.update(JSON.stringify(db.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all()));
  }
  return hash.digest('hex');
}

/** Starts a server for one test file; close it in `afterEach`/`afterAll`. */
export async function startTestServer(overrides: Partial<CreateServerOptions> = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-server-'));
  const dbPath = join(dir, 'ferry.db');
  const clock = { now: T0 };
  const server = await createServer({
    dbPath,
    schema: defaultSchema,
    auth: { secret: SECRET },
    logger: false,
    now: () => clock.now,
    ...overrides,
  });
  const token = (user: string, options: { expiresIn?: string | number } = {}) =>
    signDevToken(SECRET, user, { now: clock.now, ...options });
  return {
    server,
    dbPath,
    clock,
    token,
    async call(method, url, options = {}) {
      const headers: Record<string, string> = { [PROTOCOL_HEADER]: String(PROTOCOL_VERSION) };
      const user = options.as === undefined ? 'alice' : options.as;
      if (user !== null) headers.authorization = `Bearer ${await token(user)}`;
      let payload: string | Buffer | undefined;
      if (options.rawBody !== undefined) payload = options.rawBody;
      else if (options.body !== undefined) payload = JSON.stringify(options.body);
      if (payload !== undefined) headers['content-type'] = 'application/json';
      for (const [name, value] of Object.entries(options.headers ?? {})) {
        if (value === undefined) delete headers[name];
        else headers[name] = value;
      }
      return server.app.inject({
        method: method as 'GET',
        url,
        headers,
        ...(payload === undefined ? {} : { payload }),
      });
    },
    hashDb() {
      const db = new Database(dbPath, { readonly: true });
      try {
        return hashSqlite(db);
      } finally {
        db.close();
      }
    },
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let changeCounter = 0;

/** A valid change from `device-a` (first write of the entity unless overridden). */
export function makeChange(overrides: Partial<Change> & Pick<Change, 'entityId'>): Change {
  changeCounter += 1;
  const clientId = overrides.clientId ?? 'device-a';
  const operation = overrides.operation ?? 'CREATE';
  const wallTime = overrides.timestamp ?? T0 + changeCounter;
  return {
    id: `chg-${changeCounter}`,
    entityType: 'todos',
    operation,
    data: operation === 'DELETE' ? null : { title: `todo ${changeCounter}`, completed: false },
    timestamp: wallTime,
    hlc: encodeHlc({ wallTime, counter: 0, node: clientId }),
    version: 1,
    vector: { [clientId]: 1 },
    clientId,
    ...overrides,
  };
}

/** A push body from `clientId` carrying `changes`. */
export function pushBody(changes: Change[], clientId = 'device-a') {
  return { clientId, changes };
}
