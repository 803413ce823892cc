import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { FastifyServerOptions } from 'fastify';
import type { AuthOptions } from '../auth/createTokenVerifier.js';
import { DEV_TOKEN_AUDIENCE, DEV_TOKEN_ISSUER, signDevToken } from '../auth/signDevToken.js';
import { createServer, type FerryServer } from '../createServer.js';
import { defaultSchema } from '../defaultSchema.js';
import { loadSchema } from '../schema/loadSchema.js';

/** Usage of `ferry serve`, printed by `--help` and after a bad option. */
export const SERVE_USAGE = `Usage: ferry serve [options]

  --port <n>        port to listen on (default 8787; 0 picks a free one)
  --host <addr>     address to bind (default 127.0.0.1)
  --db <file>       SQLite database file (default ./data/ferry.db)
  --schema <file>   schema JSON (default: todos + notes)
  --dev             dev auth: secret in <db dir>/dev-secret, POST /v1/dev/token, tokens printed

Without --dev, FERRY_JWT_SECRET (and optionally FERRY_JWT_ISSUER, FERRY_JWT_AUDIENCE) configure
auth; when FERRY_JWT_SECRET is not set, dev auth is used.`;

/** A command-line mistake; the CLI prints the message and the usage, and exits with 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
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
  /** Dev tokens printed at startup, when dev auth is on. */
  devTokens: Readonly<Record<string, string>> | null;
  /**
   * Graceful stop: no new connections, in-flight requests finish, then the database closes.
   * The same promise for every call, including the one a signal started.
   */
  shutdown(): Promise<void>;
}

const DEV_USERS = ['alice', 'bob'];

function parsePort(value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) throw new UsageError(`--port must be 0-65535, got "${value}"`);
  return port;
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
  let values: { port?: string; host?: string; db?: string; schema?: string; dev?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        db: { type: 'string' },
        schema: { type: 'string' },
        dev: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
  const port = parsePort(values.port ?? '8787');
  const host = values.host ?? '127.0.0.1';
  const dbPath = values.db === ':memory:' ? ':memory:' : resolve(cwd, values.db ?? 'data/ferry.db');
  const schema = values.schema === undefined ? defaultSchema : await loadSchema(resolve(cwd, values.schema));
  const dev = values.dev === true || !env.FERRY_JWT_SECRET;
  if (dbPath !== ':memory:') await mkdir(dirname(dbPath), { recursive: true });

  let auth: AuthOptions;
  if (dev) {
    const secretFile = dbPath === ':memory:' ? join(cwd, 'data', 'dev-secret') : join(dirname(dbPath), 'dev-secret');
    auth = { secret: await devSecret(secretFile), issuer: DEV_TOKEN_ISSUER, audience: DEV_TOKEN_AUDIENCE };
  } else {
    auth = {
      secret: env.FERRY_JWT_SECRET as string,
      ...(env.FERRY_JWT_ISSUER ? { issuer: env.FERRY_JWT_ISSUER } : {}),
      ...(env.FERRY_JWT_AUDIENCE ? { audience: env.FERRY_JWT_AUDIENCE } : {}),
    };
  }

  const server = await createServer({
    dbPath,
    schema,
    auth,
    dev,
    logger: deps.logger ?? { level: env.FERRY_LOG_LEVEL ?? 'info' },
  });
  let url: string;
  try {
    ({ url } = await server.listen({ port, host }));
  } catch (error) {
    await server.close();
    throw error;
  }

  print(`Ferry sync server listening on ${url} (database ${dbPath})`);
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
      await server.close();
      print('Stopped');
    })();
    return stopping;
  };
  const onSignal = () => {
    shutdown().catch((error: unknown) => print(`Shutdown failed: ${(error as Error).message}`));
  };
  signals.once('SIGTERM', onSignal);
  signals.once('SIGINT', onSignal);
  return { server, url, devTokens, shutdown };
}
