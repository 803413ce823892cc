import { randomUUID } from 'node:crypto';
import { errorBody, HybridLogicalClock, LIMITS } from '@ferry/protocol';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions, LogController } from 'fastify';
import { type AuthOptions, checkAuthOptions, createTokenChecker } from './auth/createTokenVerifier.js';
import { signDevToken } from './auth/signDevToken.js';
import { installErrorHandlers } from './errorHandler.js';
import { answerClientError, installHttpLayerAnswers } from './httpLayerErrors.js';
import type { LiveHub } from './live/LiveHub.js';
import { type LiveOptions, registerLive } from './live/registerLive.js';
import { type AdminOptions, checkAdminOptions } from './observability/adminAccess.js';
import { type Observability, registerObservability } from './observability/registerObservability.js';
import type { ConflictArbiter } from './push/decideChange.js';
import { createStrategyArbiter, parseConflictStrategies } from './push/strategyArbiter.js';
import { createRateLimiter, type RateLimitOptions } from './rateLimit/createRateLimiter.js';
import type { RouteContext } from './routes/RouteContext.js';
import { registerV1 } from './routes/registerV1.js';
import type { ServerSchema } from './schema/parseSchema.js';
import { serveStatic } from './serveStatic.js';
import { type MembershipOptions, membershipOptions } from './spaces/SpaceAccess.js';
import type { ServerStorage } from './storage/ServerStorage.js';
import { SqliteStorage } from './storage/SqliteStorage.js';

/** Options of {@link createServer}. */
export interface CreateServerOptions extends AdminOptions {
  /** A storage to use; the caller keeps ownership (`close()` does not close it). */
  storage?: ServerStorage;
  /** SQLite file to open when no `storage` is given. Default `':memory:'`. */
  dbPath?: string;
  /** Declared entity types and fields. */
  schema: ServerSchema;
  /**
   * Bearer-token checks: an HS256 `secret` of at least 32 bytes (else `createServer` throws),
   * optional `issuer`/`audience`, and `clockToleranceSec` (default 5). Tokens must carry `exp`.
   */
  auth: AuthOptions;
  /** Fastify/pino logger options; tests pass `false`. Default `false`. */
  logger?: FastifyServerOptions['logger'];
  /** Wall clock in ms (token expiry, HLC, `serverTime`, write times of the storage it opens); injectable for tests. */
  now?: () => number;
  /** Mount `POST /v1/dev/token`, which signs a token for any user. Development only. */
  dev?: boolean;
  /** Server-side conflict arbitration; by default every conflict is reported to the client. */
  arbitrate?: ConflictArbiter;
  /**
   * Conflict strategy per entity type (`last-write-wins`, `first-write-wins`, `server-wins`,
   * `client-wins`, `merge`): the server settles a stale-base push of that type itself, and
   * `GET /v1/config` tells devices, which adopt it. Types left out are reported (or go to
   * `arbitrate`). See docs/conflicts.md.
   */
  conflictStrategies?: Readonly<Record<string, string>>;
  /** The live-poke WebSocket `GET /v1/live`; `false` turns it off. On by default. */
  live?: LiveOptions | false;
  /** A built web app (e.g. `examples/todo/dist`) to serve at `/` next to the API, with SPA fallback. */
  staticDir?: string;
  /**
   * Per-user (token `sub`) request limits, answered with 429 `RATE_LIMITED` and `Retry-After`.
   * Off by default; `ferry serve` turns them on. On PostgreSQL the counts are shared by every
   * process. See docs/deploy.md.
   */
  rateLimit?: RateLimitOptions;
  /**
   * Where shared-space membership comes from: Ferry-managed (default; owners add and remove
   * members through `sync.spaces`) or the token (`{ source: 'token', claim: 'spaces' }`: each
   * token maps space ids to roles). See docs/sharing.md.
   */
  membership?: MembershipOptions;
}

/** A running (or ready to run) Ferry server. */
export interface FerryServer {
  /** The Fastify instance: `inject()` for in-process tests, or mount more routes before `listen`. */
  app: FastifyInstance;
  storage: ServerStorage;
  /** The live channel's connections, or null when `live: false`. */
  live: LiveHub | null;
  /** Metrics, device reports and recent rates (what `/metrics` and the inspector read). */
  observability: Observability;
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
  // Before anything is opened: a server with a guessable secret must not start at all.
  checkAuthOptions(options.auth);
  checkAdminOptions(options);
  const now = options.now ?? Date.now;
  const ownsStorage = options.storage === undefined;
  // The storage stamps write times (what compaction compares) with the same clock.
  const storage = options.storage ?? new SqliteStorage(options.dbPath ?? ':memory:', { now });
  let live: LiveHub | null = null;
  let observability: Observability;
  const app = Fastify({
    logger: options.logger ?? false,
    // One line per request is written by the observability hooks instead (ids and counts only).
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    bodyLimit: LIMITS.maxBodyBytes,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Node's parser and Fastify's closing path would answer in their own shapes; these are
    // answered in ours instead (see httpLayerErrors.ts).
    clientErrorHandler: answerClientError,
    return503OnClosing: false,
    http: { requireHostHeader: false },
    // Entity ids may be 256 characters, more once percent-encoded; Fastify's default is 100.
    routerOptions: { maxParamLength: 4096 },
    // Router errors (a malformed URL, a path parameter past maxParamLength) bypass the error
    // handler; without this they leave in Fastify's own body shape, echoing the whole path.
    frameworkErrors: (error, _request, reply) => {
      const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
      void (reply as FastifyReply)
        .status(tooLong ? 414 : 400)
        .send(errorBody('BAD_REQUEST', tooLong ? 'A path segment is too long' : 'The URL is malformed'));
    },
  });
  try {
    // Only JSON bodies: without this, text/plain would be parsed and reach the handlers as a string.
    app.removeContentTypeParser('text/plain');
    installErrorHandlers(app);
    installHttpLayerAnswers(app);
    // Hooks on every request take the callback form: an async hook costs a promise and a
    // microtask per request for work that never waits.
    app.addHook('onRequest', (request, _reply, done) => {
      // Many HTTP wrappers send "Content-Type: application/json" on every request, DELETE
      // included; an empty body is no body, not a JSON syntax error.
      const length = request.headers['content-length'];
      const empty = length === '0' || (length === undefined && request.headers['transfer-encoding'] === undefined);
      if (empty) delete request.headers['content-type'];
      done();
    });
    const conflictStrategies = options.conflictStrategies
      ? parseConflictStrategies(options.conflictStrategies, options.schema)
      : undefined;
    const membership = membershipOptions(options.membership);
    const checkToken = createTokenChecker(options.auth, now);
    const ctx: RouteContext = {
      schema: options.schema,
      membership,
      conflictStrategies: conflictStrategies ?? {},
      storage,
      now,
      apply: {
        storage,
        now,
        decide: {
          schema: options.schema,
          clock: new HybridLogicalClock('server', { now }),
          ...(options.arbitrate || conflictStrategies
            ? { arbitrate: createStrategyArbiter(conflictStrategies ?? {}, options.arbitrate) }
            : {}),
        },
      },
      verify: checkToken,
      signToken: options.dev ? (userId) => signDevToken(options.auth.secret, userId, { now: now() }) : null,
      rateLimit: options.rateLimit
        ? createRateLimiter(options.rateLimit, (storage as ServerStorage).createRateCounter?.(), now)
        : null,
    };
    observability = await registerObservability(app, {
      schema: options.schema,
      storage,
      now,
      verify: checkToken,
      ...(options.adminToken === undefined ? {} : { adminToken: options.adminToken }),
      ...(options.adminClaim === undefined ? {} : { adminClaim: options.adminClaim }),
    });
    app.get('/health', async () => ({ status: 'ok' }));
    await registerV1(app, ctx);
    if (options.live !== false) {
      live = await registerLive(app, { storage, checkToken, now, membership }, options.live ?? {});
      observability.watchLive(live);
    }
    if (options.staticDir !== undefined) await serveStatic(app, options.staticDir);
    await app.ready();
  } catch (error) {
    if (ownsStorage) await storage.close();
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    app,
    storage,
    live,
    observability,
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
