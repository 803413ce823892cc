import { HybridLogicalClock, LIMITS } from '@ferry/protocol';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { type AuthOptions, createTokenVerifier } from './auth/createTokenVerifier.js';
import { signDevToken } from './auth/signDevToken.js';
import { installErrorHandlers } from './errorHandler.js';
import type { ConflictArbiter } from './push/decideChange.js';
import type { RouteContext } from './routes/RouteContext.js';
import { registerV1 } from './routes/registerV1.js';
import type { ServerSchema } from './schema/parseSchema.js';
import type { ServerStorage } from './storage/ServerStorage.js';
import { SqliteStorage } from './storage/SqliteStorage.js';

/** Options of {@link createServer}. */
export interface CreateServerOptions {
  /** A storage to use; the caller keeps ownership (`close()` does not close it). */
  storage?: ServerStorage;
  /** SQLite file to open when no `storage` is given. Default `':memory:'`. */
  dbPath?: string;
  /** Declared entity types and fields. */
  schema: ServerSchema;
  auth: AuthOptions;
  /** Fastify/pino logger options; tests pass `false`. Default `false`. */
  logger?: FastifyServerOptions['logger'];
  /** Wall clock in ms (token expiry, HLC, `serverTime`); injectable for tests. */
  now?: () => number;
  /** Mount `POST /v1/dev/token`, which signs a token for any user. Development only. */
  dev?: boolean;
  /** Server-side conflict arbitration; by default every conflict is reported to the client. */
  arbitrate?: ConflictArbiter;
}

/** A running (or ready to run) Ferry server. */
export interface FerryServer {
  /** The Fastify instance: `inject()` for in-process tests, or mount more routes before `listen`. */
  app: FastifyInstance;
  storage: ServerStorage;
  /** Starts listening; resolves to the base URL, e.g. `http://127.0.0.1:8787`. */
  listen(options: { port: number; host?: string }): Promise<{ url: string }>;
  /** Stops accepting, lets in-flight requests finish, then closes storage it opened itself. */
  close(): Promise<void>;
}

/**
 * Builds the sync server: routes, auth, protocol guard, error handling, storage.
 *
 * @example
 * const server = await createServer({ schema: defaultSchema, auth: { secret }, dbPath: './data/ferry.db' });
 * const { url } = await server.listen({ port: 8787, host: '127.0.0.1' });
 */
export async function createServer(options: CreateServerOptions): Promise<FerryServer> {
  const now = options.now ?? Date.now;
  const ownsStorage = options.storage === undefined;
  const storage = options.storage ?? new SqliteStorage(options.dbPath ?? ':memory:');
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: LIMITS.maxBodyBytes,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Entity ids may be 256 characters, more once percent-encoded; Fastify's default is 100.
    routerOptions: { maxParamLength: 4096 },
  });
  try {
    // Only JSON bodies: without this, text/plain would be parsed and reach the handlers as a string.
    app.removeContentTypeParser('text/plain');
    installErrorHandlers(app);
    app.addHook('onRequest', async (request) => {
      // Many HTTP wrappers send "Content-Type: application/json" on every request, DELETE
      // included; an empty body is no body, not a JSON syntax error.
      const length = request.headers['content-length'];
      const empty = length === '0' || (length === undefined && request.headers['transfer-encoding'] === undefined);
      if (empty) delete request.headers['content-type'];
    });
    const ctx: RouteContext = {
      schema: options.schema,
      storage,
      now,
      apply: {
        storage,
        now,
        decide: {
          schema: options.schema,
          clock: new HybridLogicalClock('server', { now }),
          ...(options.arbitrate ? { arbitrate: options.arbitrate } : {}),
        },
      },
      verify: createTokenVerifier(options.auth, now),
      signToken: options.dev ? (userId) => signDevToken(options.auth.secret, userId, { now: now() }) : null,
    };
    app.get('/health', async () => ({ status: 'ok' }));
    await registerV1(app, ctx);
    await app.ready();
  } catch (error) {
    if (ownsStorage) await storage.close();
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    app,
    storage,
    async listen({ port, host = '127.0.0.1' }) {
      await app.listen({ port, host });
      const address = app.server.address();
      if (address === null || typeof address === 'string') return { url: String(address) };
      const hostname = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return { url: `http://${hostname}:${address.port}` };
    },
    close() {
      closing ??= (async () => {
        await app.close();
        if (ownsStorage) await storage.close();
      })();
      return closing;
    },
  };
}
