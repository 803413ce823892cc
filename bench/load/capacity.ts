/**
 * The server-capacity scenario of `npm run load`: what the server processes sustain when the
 * load generator is cheap. Several client processes (capacityClients.ts) each run a bounded
 * number of virtual devices that push one change and pull, in turn, over keep-alive HTTP with
 * no client engine. Measures pushes/s and pulls/s with p50/p99 latency, errors, server RSS, and
 * the CPU time the server and client processes used over the window, so a figure can be read
 * as cores used and CPU time per request; and, on Linux, how much of the window each server's
 * event loop spent on a CPU and waiting for one, which tells a saturated server from a starved
 * or an idle one.
 */
import type { ChildProcess } from 'node:child_process';
import {
  type ClientResult,
  next,
  type SchedStat,
  schedStat,
  serverCpuMs,
  serverGroupCommits,
  serverRssMB,
  start,
  stopServers,
  throughput,
} from './children.js';

/** Knobs of {@link capacityScenario}. */
export interface CapacityScenarioOptions {
  scenario: string;
  /** Database of the server processes: a SQLite path or a postgres:// URL. */
  db: string;
  serverProcesses: number;
  secret: string;
  clientProcesses: number;
  /** Virtual devices per client process: its requests in flight. */
  devicesPerProcess: number;
  seconds: number;
}

/** What {@link capacityScenario} measured. */
export interface CapacityResult extends ReturnType<typeof throughput> {
  scenario: string;
  devices: number;
  seconds: number;
  serverRssMB: number[];
  /** CPU time of all server processes over the window ÷ its wall time. */
  serverCores: number;
  /** Server CPU time per request answered (pushes, pulls and errors). */
  serverCpuUsPerRequest: number;
  /** CPU time of all client processes over their load ÷ the window's wall time. */
  clientCores: number;
  /** Share of the window a server's main thread was on a CPU (mean over processes); null off Linux. */
  serverLoopOnCpu: number | null;
  /** Share of the window it was runnable but waiting for a CPU: the machine's other load. */
  serverLoopWaiting: number | null;
  /** Pushes per durable commit over the window (group commit); null where the storage does not group (PostgreSQL). */
  pushesPerCommit: number | null;
}

interface CapacityClientResult extends ClientResult {
  cpuMs: number;
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

/** Mean share of `wallMs` the servers' main threads spent running and waiting to run, from two samples. */
function loopShares(before: (SchedStat | undefined)[], after: (SchedStat | undefined)[], wallMs: number) {
  const run: number[] = [];
  const wait: number[] = [];
  for (const [i, a] of after.entries()) {
    const b = before[i];
    if (a === undefined || b === undefined) return { serverLoopOnCpu: null, serverLoopWaiting: null };
    run.push(a.runMs - b.runMs);
    wait.push(a.waitMs - b.waitMs);
  }
  const share = (ms: number[]) => Number((sum(ms) / ms.length / wallMs).toFixed(2));
  return { serverLoopOnCpu: share(run), serverLoopWaiting: share(wait) };
}

/** Runs the scenario; every wait is bounded and every child is ended before it returns. */
export async function capacityScenario(options: CapacityScenarioOptions): Promise<CapacityResult> {
  const servers = Array.from({ length: options.serverProcesses }, () =>
    start('./server.ts', [options.db, options.secret]),
  );
  const clients: ChildProcess[] = [];
  try {
    const urls = (await Promise.all(servers.map((s) => next<{ url: string }>(s, 'ready', 60_000)))).map((m) => m.url);
    const perProc = options.devicesPerProcess;
    for (let i = 0; i < options.clientProcesses; i += 1) {
      const args = {
        urls,
        secret: options.secret,
        clients: perProc,
        firstUser: i * perProc,
        durationMs: options.seconds * 1000,
      };
      clients.push(start('./capacityClients.ts', [JSON.stringify(args)]));
    }
    await Promise.all(clients.map((c) => next(c, 'ready', 60_000)));
    const cpuBefore = sum(await Promise.all(servers.map(serverCpuMs)));
    const groupsBefore = await Promise.all(servers.map(serverGroupCommits));
    const schedBefore = servers.map((s) => schedStat(s.pid));
    const results = Promise.all(
      clients.map((c) => next<CapacityClientResult>(c, 'result', (options.seconds + 60) * 1000)),
    );
    const started = performance.now();
    for (const client of clients) client.send({ type: 'go' });
    const reports = await results;
    const wallMs = performance.now() - started;
    const schedAfter = servers.map((s) => schedStat(s.pid));
    const cpuMs = sum(await Promise.all(servers.map(serverCpuMs))) - cpuBefore;
    const groupsAfter = await Promise.all(servers.map(serverGroupCommits));
    const commits = sum(groupsAfter.map((g, i) => g.commits - (groupsBefore[i]?.commits ?? 0)));
    const grouped = sum(groupsAfter.map((g, i) => g.pushes - (groupsBefore[i]?.pushes ?? 0)));
    const stats = throughput(reports, options.seconds);
    const requests = sum(reports.map((r) => r.pushes.length + r.pulls.length + sum(Object.values(r.errors))));
    return {
      scenario: options.scenario,
      devices: perProc * options.clientProcesses,
      seconds: options.seconds,
      ...stats,
      serverRssMB: await Promise.all(servers.map(serverRssMB)),
      serverCores: Number((cpuMs / wallMs).toFixed(2)),
      serverCpuUsPerRequest: Math.round((cpuMs * 1000) / Math.max(1, requests)),
      clientCores: Number((sum(reports.map((r) => r.cpuMs)) / wallMs).toFixed(2)),
      ...loopShares(schedBefore, schedAfter, wallMs),
      pushesPerCommit: commits === 0 ? null : Number((grouped / commits).toFixed(1)),
    };
  } finally {
    for (const client of clients) if (client.exitCode === null) client.kill('SIGKILL');
    await stopServers(servers);
  }
}
