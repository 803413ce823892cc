/**
 * A throwaway PostgreSQL cluster for tests: `initdb` + `pg_ctl` in a temp dir, listening on a
 * free loopback port with its unix socket in the same dir, fsync off (FERRY_PG_DURABLE=1 keeps it on), stopped and removed
 * after. When the binaries are missing the PostgreSQL tests skip with the reason printed,
 * unless `FERRY_REQUIRE_POSTGRES=1` (CI), which turns the absence into a failure.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './freePort.js';

const run = promisify(execFile);
const COMMAND_TIMEOUT_MS = 60_000;

/** Where `initdb` and `pg_ctl` live: `FERRY_PG_BIN`, else Debian's newest `/usr/lib/postgresql/<v>/bin`. */
export function findPostgresBin(): string | null {
  const fromEnv = process.env.FERRY_PG_BIN;
  if (fromEnv) return existsSync(join(fromEnv, 'initdb')) ? fromEnv : null;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((name) => existsSync(join(root, name, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? null : join(root, versions[0], 'bin');
}

/**
 * Whether the PostgreSQL suites can run here. Prints why they skip; throws when CI requires them.
 */
export function postgresAvailable(): boolean {
  if (findPostgresBin() !== null) return true;
  const reason = 'PostgreSQL binaries not found (install postgresql or set FERRY_PG_BIN)';
  if (process.env.FERRY_REQUIRE_POSTGRES === '1')
    throw new Error(`${reason}; FERRY_REQUIRE_POSTGRES=1 forbids skipping`);
  console.warn(`Skipping PostgreSQL tests: ${reason}`);
  return false;
}

/** A running throwaway cluster. */
export interface PostgresCluster {
  /** `postgres://` URL of the `postgres` database. */
  url: string;
  /** Creates a fresh empty database and returns its URL. */
  createDatabase(): Promise<string>;
  /** Stops the server and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** How long `stop()` waits for `pg_ctl stop` before killing the postmaster. */
const STOP_DEADLINE_MS = 25_000;

/** Rejects when `promise` has not settled after `ms` (execFile's own timeout can wait on a grandchild's pipes). */
async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** SIGKILLs the cluster's postmaster (its backends exit on their own once it is gone). */
function killPostmaster(data: string): void {
  const pidFile = join(data, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 1) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** initdb and postgres refuse to run as root; as root, run them as the `postgres` user. */
async function runAsOwner(asRoot: boolean, file: string, args: string[]): Promise<void> {
  const [command, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
  await run(command, argv, { timeout: COMMAND_TIMEOUT_MS });
}

/** Runs `sql` on the cluster's admin database `adminUrl` over a short-lived connection. */
async function admin(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Only names the tests and the simulator generate: CREATE / DROP DATABASE take no parameters. */
function checkName(name: string): string {
  if (!/^ferry_[a-z0-9_]+$/.test(name)) throw new Error(`Not a generated database name: ${name}`);
  return name;
}

/** Creates an empty database `name` on the cluster of `adminUrl`; returns its URL. */
export async function createDatabaseOn(adminUrl: string, name: string): Promise<string> {
  await admin(adminUrl, `CREATE DATABASE ${checkName(name)}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops database `name` from the cluster of `adminUrl`, closing connections left on it. */
export async function dropDatabaseOn(adminUrl: string, name: string): Promise<void> {
  await admin(adminUrl, `DROP DATABASE IF EXISTS ${checkName(name)} WITH (FORCE)`);
}

/** Starts a cluster; call `stop()` in `afterAll`. */
export async function startPostgres(): Promise<PostgresCluster> {
  const bin = findPostgresBin();
  if (bin === null) throw new Error('PostgreSQL binaries not found (install postgresql or set FERRY_PG_BIN)');
  const dir = mkdtempSync(join(tmpdir(), 'ferry-pg-'));
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres'], { timeout: COMMAND_TIMEOUT_MS });
    const { stdout: gid } = await run('id', ['-g', 'postgres'], { timeout: COMMAND_TIMEOUT_MS });
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  await runAsOwner(asRoot, join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '-A',
    'trust',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  const port = await freePort();
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    // Throwaway clusters skip durability; FERRY_PG_DURABLE=1 keeps it (to measure what commits cost).
    ...(process.env.FERRY_PG_DURABLE === '1'
      ? []
      : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
    '-c max_connections=200',
  ].join(' ');
  const pgCtl = join(bin, 'pg_ctl');
  try {
    await runAsOwner(asRoot, pgCtl, ['-D', data, '-o', options, '-l', log, '-w', '-t', '30', 'start']);
  } catch (error) {
    const serverLog = existsSync(log) ? readFileSync(log, 'utf8') : '(no log)';
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`pg_ctl start failed: ${(error as Error).message}\n${serverLog}`, { cause: error });
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let databases = 0;
  let stopped: Promise<void> | undefined;
  return {
    url,
    async createDatabase() {
      databases += 1;
      return createDatabaseOn(url, `ferry_test_${databases}`);
    },
    stop() {
      stopped ??= (async () => {
        try {
          await withDeadline(
            runAsOwner(asRoot, pgCtl, ['-D', data, '-m', 'immediate', '-w', '-t', '20', 'stop']),
            STOP_DEADLINE_MS,
          );
        } catch (error) {
          // A throwaway cluster: one that does not stop in time (seen on a heavily loaded
          // machine) is killed, so a test file's cleanup never outlives its hook's timeout.
          console.warn(`pg_ctl stop failed (${(error as Error).message}); killing the postmaster`);
          killPostmaster(data);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      })();
      return stopped;
    },
  };
}
