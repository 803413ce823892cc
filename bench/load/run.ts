/**
 * `npm run load`: a fleet of simulated devices (the real client engine, in several client
 * processes) against 1 SQLite server process, 1 PostgreSQL server process and 3 PostgreSQL
 * server processes. Reports pushes/s and pulls/s with p50/p99 latency, errors by status and
 * server RSS. Then the server-capacity scenario (capacity.ts) on the same three set-ups: cheap
 * protocol clients instead of client engines, so the figures are the server's, with the CPU
 * time it used. Then the live-capacity scenario (live.ts): FERRY_LOAD_LIVE WebSocket clients on
 * one server process, connect time, RSS and poke fan-out latency. Bounded in time: each
 * scenario runs FERRY_LOAD_SECONDS (default 10), and the whole run is killed after a hard budget.
 *
 * Env: FERRY_LOAD_SECONDS, FERRY_LOAD_DEVICES (per scenario, default 40), FERRY_LOAD_CLIENT_PROCS
 * (default 2), FERRY_LOAD_CAPACITY (virtual devices of the server-capacity scenario, default 32;
 * 0 skips), FERRY_LOAD_CAPACITY_PROCS (client processes running them, default 2), FERRY_LOAD_LIVE
 * (WebSocket clients, default 5000; 0 skips), FERRY_LOAD_LIVE_PROCS (client processes holding
 * them, default 4), FERRY_LOAD_FLEET=0 (skip the client-engine fleet scenarios),
 * FERRY_LOAD_POSTGRES=0 (skip every PostgreSQL scenario), FERRY_LOAD_PROFILE=1 (run the server
 * processes with --cpu-prof; profiles land in bench/results/).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPostgresBin, type PostgresCluster, startPostgres } from '../../test/support/postgres.js';
import { type CapacityResult, capacityScenario } from './capacity.js';
import { type ClientResult, children, next, serverRssMB, start, stopServers, throughput } from './children.js';
import { type LiveResult, liveScenario } from './live.js';

const SECONDS = Number(process.env.FERRY_LOAD_SECONDS ?? 10);
const DEVICES = Number(process.env.FERRY_LOAD_DEVICES ?? 40);
const CLIENT_PROCS = Number(process.env.FERRY_LOAD_CLIENT_PROCS ?? 2);
const CAPACITY = Number(process.env.FERRY_LOAD_CAPACITY ?? 32);
const CAPACITY_PROCS = Number(process.env.FERRY_LOAD_CAPACITY_PROCS ?? 2);
const LIVE = Number(process.env.FERRY_LOAD_LIVE ?? 5000);
const LIVE_PROCS = Number(process.env.FERRY_LOAD_LIVE_PROCS ?? 4);
const FLEET = process.env.FERRY_LOAD_FLEET !== '0';
const POSTGRES = process.env.FERRY_LOAD_POSTGRES !== '0';
const SECRET = 'load-test-secret-long-enough-for-hs256';

// Whatever happens, the run ends: scenarios plus start-up and shutdown slack.
const budget = setTimeout(
  () => {
    process.stderr.write('Load run exceeded its time budget; stopping\n');
    for (const child of children) child.kill('SIGKILL');
    process.exit(1);
  },
  (3 * SECONDS + 120 + (CAPACITY > 0 ? 3 * SECONDS + 90 : 0) + (LIVE > 0 ? 500 : 0)) * 1000,
);
budget.unref();

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
  const rss = await Promise.all(servers.map(serverRssMB));
  await stopServers(servers);
  return {
    scenario: name,
    devices: perProc * CLIENT_PROCS,
    seconds: SECONDS,
    ...throughput(results, SECONDS),
    serverRssMB: rss,
  };
}

/** The server-capacity scenario on `processes` server processes sharing `db`. */
function capacity(name: string, db: string, processes: number): Promise<CapacityResult> {
  return capacityScenario({
    scenario: name,
    db,
    serverProcesses: processes,
    secret: SECRET,
    clientProcesses: CAPACITY_PROCS,
    devicesPerProcess: Math.ceil(CAPACITY / CAPACITY_PROCS),
    seconds: SECONDS,
  });
}

/** A row for console.table: errors as JSON, one RSS per server process. */
function tableRow<T extends { errors: Record<string, number>; serverRssMB: number[] }>({
  errors,
  serverRssMB,
  ...row
}: T) {
  return { ...row, errors: JSON.stringify(errors), serverRssMB: serverRssMB.join('/') };
}

const dir = mkdtempSync(join(tmpdir(), 'ferry-load-'));
let cluster: PostgresCluster | undefined;
const rows = [];
const capacityRows: CapacityResult[] = [];
const live: LiveResult[] = [];
try {
  if (!POSTGRES) {
    // Asked for: nothing to say.
  } else if (findPostgresBin() === null) {
    process.stderr.write('PostgreSQL binaries not found: skipping the PostgreSQL scenarios\n');
  } else {
    cluster = await startPostgres();
  }
  if (FLEET) {
    rows.push(await scenario('sqlite ×1', join(dir, 'load.db'), 1));
    if (cluster) {
      rows.push(await scenario('postgres ×1', await cluster.createDatabase(), 1));
      rows.push(await scenario('postgres ×3', await cluster.createDatabase(), 3));
    }
  }
  if (CAPACITY > 0) {
    capacityRows.push(await capacity('sqlite ×1', join(dir, 'capacity.db'), 1));
    if (cluster) {
      capacityRows.push(await capacity('postgres ×1', await cluster.createDatabase(), 1));
      capacityRows.push(await capacity('postgres ×3', await cluster.createDatabase(), 3));
    }
  }
  const liveOptions = {
    secret: SECRET,
    connections: LIVE,
    clientProcesses: LIVE_PROCS,
    hotConnections: Math.min(1000, Math.ceil(LIVE / 5)),
    rounds: 5,
  };
  if (LIVE > 0) {
    live.push(
      await liveScenario({ ...liveOptions, scenario: 'sqlite ×1', db: ':memory:', writeViaOtherProcess: false }),
    );
    if (cluster) {
      const db = await cluster.createDatabase();
      live.push(
        await liveScenario({
          ...liveOptions,
          scenario: 'postgres ×2, write on the other',
          db,
          writeViaOtherProcess: true,
        }),
      );
    }
  }
} finally {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
}
if (rows.length > 0) console.table(rows.map(tableRow));
if (capacityRows.length > 0) console.table(capacityRows.map(tableRow));
if (live.length > 0) console.table(live);
const out = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(out, { recursive: true });
writeFileSync(
  join(out, 'load.json'),
  `${JSON.stringify({ at: new Date().toISOString(), rows, capacity: capacityRows, live }, null, 2)}\n`,
);
