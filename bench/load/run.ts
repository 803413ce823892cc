/**
 * `npm run load`: a fleet of simulated devices (the real client engine, in several client
 * processes) against 1 SQLite server process, 1 PostgreSQL server process and 3 PostgreSQL
 * server processes. Reports pushes/s and pulls/s with p50/p99 latency, errors by status and
 * server RSS. Bounded in time: each scenario runs FERRY_LOAD_SECONDS (default 10), and the
 * whole run is killed after a hard budget.
 *
 * Env: FERRY_LOAD_SECONDS, FERRY_LOAD_DEVICES (per scenario, default 40), FERRY_LOAD_CLIENT_PROCS (default 2).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPostgresBin, type PostgresCluster, startPostgres } from '../../test/support/postgres.js';

const SECONDS = Number(process.env.FERRY_LOAD_SECONDS ?? 10);
const DEVICES = Number(process.env.FERRY_LOAD_DEVICES ?? 40);
const CLIENT_PROCS = Number(process.env.FERRY_LOAD_CLIENT_PROCS ?? 2);
const SECRET = 'load-test-secret-long-enough-for-hs256';
const children = new Set<ChildProcess>();

// Whatever happens, the run ends: scenarios plus start-up and shutdown slack.
const budget = setTimeout(
  () => {
    process.stderr.write('Load run exceeded its time budget; stopping\n');
    for (const child of children) child.kill('SIGKILL');
    process.exit(1);
  },
  (3 * SECONDS + 120) * 1000,
);
budget.unref();

function start(file: string, args: string[]): ChildProcess {
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), args, {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function next<T>(child: ChildProcess, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${type}" from child within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: { type: string }) => {
      if (message.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message as T);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before "${type}"`)));
  });
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

interface ClientResult {
  pushes: number[];
  pulls: number[];
  errors: Record<string, number>;
}

async function scenario(name: string, db: string, processes: number) {
  const servers = Array.from({ length: processes }, () => start('./server.ts', [db, SECRET]));
  const urls = (await Promise.all(servers.map((s) => next<{ url: string }>(s, 'ready', 60_000)))).map((m) => m.url);
  const perProc = Math.ceil(DEVICES / CLIENT_PROCS);
  const clients = Array.from({ length: CLIENT_PROCS }, (_, i) =>
    start('./clients.ts', [
      JSON.stringify({ urls, secret: SECRET, devices: perProc, firstUser: i * perProc, durationMs: SECONDS * 1000 }),
    ]),
  );
  const results = await Promise.all(clients.map((c) => next<ClientResult>(c, 'result', (SECONDS + 60) * 1000)));
  const rss = await Promise.all(
    servers.map((server) => {
      const reply = next<{ rss: number }>(server, 'rss', 10_000);
      server.send({ type: 'rss' });
      return reply;
    }),
  );
  for (const server of servers) server.send({ type: 'stop' });
  await Promise.all(servers.map((s) => new Promise((resolve) => s.once('exit', resolve))));
  const pushes = results.flatMap((r) => r.pushes);
  const pulls = results.flatMap((r) => r.pulls);
  const errors: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  return {
    scenario: name,
    devices: perProc * CLIENT_PROCS,
    seconds: SECONDS,
    pushesPerSecond: Math.round(pushes.length / SECONDS),
    pushP50Ms: Number(percentile(pushes, 50).toFixed(1)),
    pushP99Ms: Number(percentile(pushes, 99).toFixed(1)),
    pullsPerSecond: Math.round(pulls.length / SECONDS),
    pullP50Ms: Number(percentile(pulls, 50).toFixed(1)),
    pullP99Ms: Number(percentile(pulls, 99).toFixed(1)),
    errors,
    serverRssMB: rss.map((m) => Math.round(m.rss / 1048576)),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'ferry-load-'));
let cluster: PostgresCluster | undefined;
const rows = [];
try {
  rows.push(await scenario('sqlite ×1', join(dir, 'load.db'), 1));
  if (findPostgresBin() === null) {
    process.stderr.write('PostgreSQL binaries not found: skipping the PostgreSQL scenarios\n');
  } else {
    cluster = await startPostgres();
    rows.push(await scenario('postgres ×1', await cluster.createDatabase(), 1));
    rows.push(await scenario('postgres ×3', await cluster.createDatabase(), 3));
  }
} finally {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
}
console.table(
  rows.map(({ errors, serverRssMB, ...row }) => ({
    ...row,
    errors: JSON.stringify(errors),
    serverRssMB: serverRssMB.join('/'),
  })),
);
const out = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'load.json'), `${JSON.stringify({ at: new Date().toISOString(), rows }, null, 2)}\n`);
