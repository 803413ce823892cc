import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { FastifyServerOptions } from 'fastify';
import {
  type AuthOptions,
  DEFAULT_CLOCK_TOLERANCE_SEC,
  MAX_CLOCK_TOLERANCE_SEC,
  MIN_SECRET_BYTES,
} from '../auth/createTokenVerifier.js';
import { DEV_TOKEN_AUDIENCE, DEV_TOKEN_ISSUER, signDevToken } from '../auth/signDevToken.js';
import { createServer, type FerryServer } from '../createServer.js';
import { defaultSchema } from '../defaultSchema.js';
import { scrubMessage } from '../observability/redactError.js';
import { loadSchema } from '../schema/loadSchema.js';
import { type MembershipOptions, membershipOptions } from '../spaces/SpaceAccess.js';
import { PostgresStorage } from '../storage/PostgresStorage.js';
import { isPostgresUrl, redactPostgresUrl } from '../storage/PostgresStorageUrl.js';
import { scheduleCompaction } from '../storage/scheduleCompaction.js';
import { parseRateLimitFlags, RATE_LIMIT_OPTIONS, RATE_LIMIT_USAGE } from './rateLimitFlags.js';

/** Usage of `ferry serve`, printed by `--help` and after a bad option. */
export const SERVE_USAGE = `Usage: ferry serve [options]

  --port <n>        port to listen on (default 8787; 0 picks a free one)
  --host <addr>     address to bind (default 127.0.0.1)
  --db <file|url>   SQLite database file (default ./data/ferry.db), or a postgres://user:pass@host/db
                    URL: many server processes can share one PostgreSQL database
  --tombstone-retention <days>  remove tombstones older than this (hourly); a device offline
                    longer re-syncs from a snapshot (default: keep forever)
  --log-retention <days>        remove applied-change log entries older than this (default: keep)
${RATE_LIMIT_USAGE}
  --schema <file>   schema JSON (default: todos + notes)
  --conflicts <map> server conflict strategy per entity type, e.g. todos=merge,notes=last-write-wins
                    (last-write-wins, first-write-wins, server-wins, client-wins, merge; see docs/conflicts.md)
  --membership <ferry|token>    who decides shared-space membership: ferry (default; owners manage
                    members through the client's sync.spaces) or token (each token's claim, below)
  --membership-claim <name>     the token claim mapping space ids to roles (default "spaces")
  --static <dir>    web app to serve at / (default: the Todo demo, examples/todo/dist, once built)
  --clock-tolerance <seconds>   allowed clock skew on token exp/nbf, 0-${MAX_CLOCK_TOLERANCE_SEC}
                    (default ${DEFAULT_CLOCK_TOLERANCE_SEC}; or FERRY_JWT_CLOCK_TOLERANCE)
  --metrics-port <n>            also serve /metrics on this port (same host, same admin credential)
  --admin-claim     also accept user tokens carrying "admin": true for /metrics, /v1/admin and /inspector
  --log-format <json|pretty>    log lines as JSON (default) or human-readable for development
  --dev             development only: dev auth with a secret in <db dir>/dev-secret,
                    POST /v1/dev/token signs a token for any user, tokens printed at start

Auth: FERRY_JWT_SECRET (at least ${MIN_SECRET_BYTES} bytes; optionally FERRY_JWT_ISSUER, FERRY_JWT_AUDIENCE)
is the HS256 secret tokens are signed with; tokens must carry "exp". Without it, ferry serve
refuses to start unless --dev is given (and --dev refuses a FERRY_JWT_SECRET).

Operations: FERRY_ADMIN_TOKEN (at least 32 characters) turns on /metrics (Prometheus), the
/v1/admin API and the /inspector page, all behind "Authorization: Bearer <FERRY_ADMIN_TOKEN>";
without it (or --admin-claim) they do not exist. FERRY_LOG_LEVEL sets the log level (default info).
See docs/operations.md.`;

/** `--membership` and `--membership-claim` as {@link MembershipOptions}. */
export function parseMembershipFlags(source: string | undefined, claim: string | undefined): MembershipOptions {
  if (source !== undefined && source !== 'ferry' && source !== 'token') {
    throw new UsageError(`--membership takes "ferry" or "token", got "${source}"`);
  }
  if (claim !== undefined && source !== 'token') {
    throw new UsageError('--membership-claim names the token claim of --membership token; add --membership token');
  }
  try {
    return membershipOptions({ ...(source ? { source } : {}), ...(claim ? { claim } : {}) });
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
}

/** `todos=merge,notes=last-write-wins` as a map; the server checks the names against the schema. */
export function parseConflictsFlag(value: string): Record<string, string> {
  const strategies: Record<string, string> = {};
  for (const pair of value.split(',')) {
    const match = /^\s*([^=\s]+)\s*=\s*([^=\s]+)\s*$/.exec(pair);
    if (!match) throw new UsageError(`--conflicts takes type=strategy pairs separated by commas, got "${pair}"`);
    strategies[match[1] as string] = match[2] as string;
  }
  return strategies;
}

/** A command-line mistake; the CLI prints the message and the usage, and exits with 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A configuration the server refuses to start with (auth missing or weak); the CLI exits with 1. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/** Where `runServe` meets the process; tests pass their own. */
export interface ServeDeps {
  cwd?: string;
  env?: Readonly<Record<string, string | undefined>>;
  print?: (line: string) => void;
  /** Source of SIGTERM/SIGINT (default `process`). */
  signals?: {
    once(event: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
    off(event: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  };
  logger?: FastifyServerOptions['logger'];
}

/** A server started by {@link runServe}. */
export interface RunningServe {
  server: FerryServer;
  url: string;
  /** Where `--metrics-port` serves `/metrics`, when given. */
  metricsUrl: string | null;
  /** Dev tokens printed at startup, when dev auth is on. */
  devTokens: Readonly<Record<string, string>> | null;
  /**
   * Graceful stop: no new connections, in-flight requests finish, then the database closes.
   * The same promise for every call, including the one a signal started.
   */
  shutdown(): Promise<void>;
}

const DEV_USERS = ['alice', 'bob', 'carol'];

// From src/cli or dist/cli of packages/server to the repository's built demo.
const DEMO_DIST = fileURLToPath(new URL('../../../../examples/todo/dist/', import.meta.url));

/** `--static <dir>` if given, else the built Todo demo when it exists (a source checkout after `npm run build`). */
function staticSite(flag: string | undefined, cwd: string): { staticDir?: string } {
  if (flag !== undefined) return { staticDir: resolve(cwd, flag) };
  return existsSync(join(DEMO_DIST, 'index.html')) ? { staticDir: DEMO_DIST } : {};
}

/** `--…-retention <days>` in ms; undefined when the flag is absent. */
function parseRetention(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const days = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
  if (!(days > 0)) throw new UsageError(`${flag} takes a number of days greater than 0, got "${value}"`);
  return days * 86_400_000;
}

/** `--clock-tolerance` (else `FERRY_JWT_CLOCK_TOLERANCE`) in seconds; undefined for the default. */
function parseClockTolerance(flag: string | undefined, env: string | undefined): number | undefined {
  const [name, value] = flag !== undefined ? ['--clock-tolerance', flag] : ['FERRY_JWT_CLOCK_TOLERANCE', env];
  if (value === undefined || value === '') return undefined;
  const seconds = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
  if (!(seconds <= MAX_CLOCK_TOLERANCE_SEC)) {
    throw new UsageError(`${name} takes seconds from 0 to ${MAX_CLOCK_TOLERANCE_SEC}, got "${value}"`);
  }
  return seconds;
}

/** Production auth from the environment, or a {@link StartupError} that says how to fix it. */
function jwtAuth(env: Readonly<Record<string, string | undefined>>): AuthOptions {
  const secret = env.FERRY_JWT_SECRET;
  if (!secret) {
    throw new StartupError(
      'FERRY_JWT_SECRET is not set, and without it anyone could sign in as anyone. Set it to the HS256 ' +
        `secret your tokens are signed with (at least ${MIN_SECRET_BYTES} bytes, e.g. ` +
        '`export FERRY_JWT_SECRET="$(openssl rand -base64 48)"`), or pass --dev for local development with dev tokens.',
    );
  }
  const bytes = Buffer.byteLength(secret, 'utf8');
  if (bytes < MIN_SECRET_BYTES) {
    throw new StartupError(
      `FERRY_JWT_SECRET is ${bytes} bytes; a secret that short can be guessed from a single token. Use at least ` +
        `${MIN_SECRET_BYTES} random bytes, e.g. \`export FERRY_JWT_SECRET="$(openssl rand -base64 48)"\`.`,
    );
  }
  return {
    secret,
    ...(env.FERRY_JWT_ISSUER ? { issuer: env.FERRY_JWT_ISSUER } : {}),
    ...(env.FERRY_JWT_AUDIENCE ? { audience: env.FERRY_JWT_AUDIENCE } : {}),
  };
}

function parsePort(value: string, flag = '--port'): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) throw new UsageError(`${flag} must be 0-65535, got "${value}"`);
  return port;
}

/** Pino options for `ferry serve`: JSON lines, or pino-pretty's coloured lines for development. */
function serveLogger(level: string, format: 'json' | 'pretty'): FastifyServerOptions['logger'] {
  if (format === 'json') return { level };
  return {
    level,
    transport: {
      target: 'pino-pretty',
      options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true },
    },
  };
}

async function devSecret(file: string): Promise<string> {
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= 32) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(32).toString('base64url');
  await mkdir(dirname(file), { recursive: true });
  // Persisted so tokens survive a restart; 0600 because it can mint a token for anyone.
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/**
 * `ferry serve`: opens the database, loads the schema, starts listening, and shuts down
 * gracefully on SIGTERM/SIGINT. `argv` is what follows `serve` on the command line.
 */
export async function runServe(argv: readonly string[], deps: ServeDeps = {}): Promise<RunningServe> {
  const cwd = deps.cwd ?? process.cwd();
  const env = deps.env ?? process.env;
  const print = deps.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const signals = deps.signals ?? process;
  let values: {
    port?: string;
    host?: string;
    db?: string;
    schema?: string;
    conflicts?: string;
    membership?: string;
    'membership-claim'?: string;
    static?: string;
    'tombstone-retention'?: string;
    'log-retention'?: string;
    'pushes-per-minute'?: string;
    'pulls-per-minute'?: string;
    'clock-tolerance'?: string;
    'admin-claim'?: boolean;
    'log-format'?: string;
    'metrics-port'?: string;
    dev?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        db: { type: 'string' },
        schema: { type: 'string' },
        conflicts: { type: 'string' },
        membership: { type: 'string' },
        'membership-claim': { type: 'string' },
        static: { type: 'string' },
        'tombstone-retention': { type: 'string' },
        'log-retention': { type: 'string' },
        ...RATE_LIMIT_OPTIONS,
        'clock-tolerance': { type: 'string' },
        'admin-claim': { type: 'boolean' },
        'metrics-port': { type: 'string' },
        'log-format': { type: 'string' },
        dev: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
  const port = parsePort(values.port ?? '8787');
  const metricsPort =
    values['metrics-port'] === undefined ? undefined : parsePort(values['metrics-port'], '--metrics-port');
  if (metricsPort !== undefined && !env.FERRY_ADMIN_TOKEN && !values['admin-claim']) {
    throw new UsageError(
      '--metrics-port serves /metrics behind the admin credential: set FERRY_ADMIN_TOKEN (or --admin-claim)',
    );
  }
  const logFormat = values['log-format'] ?? 'json';
  if (logFormat !== 'json' && logFormat !== 'pretty') {
    throw new UsageError(`--log-format takes "json" or "pretty", got "${logFormat}"`);
  }
  const tombstoneRetentionMs = parseRetention('--tombstone-retention', values['tombstone-retention']);
  const changeLogRetentionMs = parseRetention('--log-retention', values['log-retention']);
  const host = values.host ?? '127.0.0.1';
  const rateLimit = parseRateLimitFlags(values, (message) => new UsageError(message));
  const postgresUrl = isPostgresUrl(values.db) ? values.db : undefined;
  const dbPath =
    values.db === ':memory:' || postgresUrl !== undefined ? ':memory:' : resolve(cwd, values.db ?? 'data/ferry.db');
  const schema = values.schema === undefined ? defaultSchema : await loadSchema(resolve(cwd, values.schema));
  const membership = parseMembershipFlags(values.membership, values['membership-claim']);
  const clockToleranceSec = parseClockTolerance(values['clock-tolerance'], env.FERRY_JWT_CLOCK_TOLERANCE);
  // Dev auth only when asked for by name: a deploy that forgets FERRY_JWT_SECRET must not
  // start with a route that signs a token for anyone.
  const dev = values.dev === true;
  if (dev && env.FERRY_JWT_SECRET) {
    throw new StartupError(
      '--dev signs tokens with its own secret and mounts POST /v1/dev/token, but FERRY_JWT_SECRET is set: ' +
        'drop --dev to use FERRY_JWT_SECRET, or unset it for local development.',
    );
  }
  // Checked before anything is created on disk.
  let auth: AuthOptions | undefined = dev ? undefined : jwtAuth(env);
  if (dbPath !== ':memory:') await mkdir(dirname(dbPath), { recursive: true });
  if (auth === undefined) {
    const secretFile = dbPath === ':memory:' ? join(cwd, 'data', 'dev-secret') : join(dirname(dbPath), 'dev-secret');
    auth = { secret: await devSecret(secretFile), issuer: DEV_TOKEN_ISSUER, audience: DEV_TOKEN_AUDIENCE };
  }
  if (clockToleranceSec !== undefined) auth = { ...auth, clockToleranceSec };

  // createServer leaves a storage it was given open, so this one is closed here, after the server.
  const postgres =
    postgresUrl === undefined ? undefined : await PostgresStorage.open({ connectionString: postgresUrl });
  const site = staticSite(values.static, cwd);
  const server = await createServer({
    ...(postgres === undefined ? { dbPath } : { storage: postgres }),
    schema,
    ...(values.conflicts === undefined ? {} : { conflictStrategies: parseConflictsFlag(values.conflicts) }),
    ...site,
    auth,
    dev,
    rateLimit,
    membership,
    logger: deps.logger ?? serveLogger(env.FERRY_LOG_LEVEL ?? 'info', logFormat),
    ...(env.FERRY_ADMIN_TOKEN ? { adminToken: env.FERRY_ADMIN_TOKEN } : {}),
    ...(values['admin-claim'] ? { adminClaim: true } : {}),
  }).catch(async (error: unknown) => {
    await postgres?.close();
    throw error;
  });
  let url: string;
  let metricsListener: { url: string; close(): Promise<void> } | undefined;
  try {
    ({ url } = await server.listen({ port, host }));
    if (metricsPort !== undefined)
      metricsListener = await server.observability.listenMetrics({ port: metricsPort, host });
  } catch (error) {
    await server.close();
    await postgres?.close();
    throw error;
  }

  const watch = server.observability.compaction;
  if (tombstoneRetentionMs !== undefined || changeLogRetentionMs !== undefined) {
    watch.retain({ tombstoneRetentionMs, changeLogRetentionMs });
  }
  const compaction =
    tombstoneRetentionMs === undefined && changeLogRetentionMs === undefined
      ? undefined
      : scheduleCompaction(server.storage, {
          tombstoneRetentionMs,
          changeLogRetentionMs,
          onCompacted: watch.compacted,
          onError: (error) => {
            watch.failed(error);
            print(`Compaction failed: ${scrubMessage(error instanceof Error ? error.message : String(error))}`);
          },
        });
  const database = postgresUrl === undefined ? dbPath : redactPostgresUrl(postgresUrl);
  print(`Ferry sync server listening on ${url} (database ${database})`);
  if (site.staticDir !== undefined) print(`Serving ${site.staticDir} at ${url}/`);
  if (metricsListener) print(`Metrics at ${metricsListener.url}/metrics (admin credential required)`);
  let devTokens: Record<string, string> | null = null;
  if (dev) {
    devTokens = {};
    print('DEV AUTH is on: POST /v1/dev/token signs a token for any user. Do not use with real data.');
    for (const user of DEV_USERS) {
      devTokens[user] = await signDevToken(auth.secret, user, { expiresIn: '30d' });
      print(`  dev token for ${user}: ${devTokens[user]}`);
    }
  }

  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      signals.off('SIGTERM', onSignal);
      signals.off('SIGINT', onSignal);
      print('Shutting down: finishing in-flight requests, then closing the database');
      compaction?.stop();
      await metricsListener?.close();
      await server.close();
      await postgres?.close();
      print('Stopped');
    })();
    return stopping;
  };
  const onSignal = () => {
    shutdown().catch((error: unknown) => print(`Shutdown failed: ${(error as Error).message}`));
  };
  signals.once('SIGTERM', onSignal);
  signals.once('SIGINT', onSignal);
  return { server, url, metricsUrl: metricsListener?.url ?? null, devTokens, shutdown };
}
