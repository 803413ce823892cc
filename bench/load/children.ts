/**
 * Child processes of `npm run load`: forked with tsx, tracked so the run's time budget can kill
 * every one of them, and spoken to over IPC with a timeout on every wait.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Every child still running; the time budget kills these. */
export const children = new Set<ChildProcess>();

/** Where FERRY_LOAD_PROFILE=1 puts the server processes' CPU profiles. */
const PROFILE_DIR = fileURLToPath(new URL('../results/', import.meta.url));

/**
 * Forks `file` (relative to bench/load/) under tsx with an IPC channel; a server process
 * (server.ts) runs with --cpu-prof when FERRY_LOAD_PROFILE=1 (written when it stops).
 */
export function start(file: string, args: string[]): ChildProcess {
  const profile =
    process.env.FERRY_LOAD_PROFILE === '1' && file === './server.ts'
      ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`]
      : [];
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), args, {
    execArgv: ['--import', 'tsx', ...profile],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** The next IPC message of `type` from `child`; rejects after `timeoutMs` or if it exits first. */
export function next<T>(child: ChildProcess, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      reject(new Error(`child exited (${code}) before "${type}"`));
    };
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      child.off('exit', onExit);
      reject(new Error(`no "${type}" from child within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message: { type: string }) => {
      if (message.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message as T);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Asks a server child (server.ts) for the CPU time (user + system, all threads) it has used, in ms. */
export async function serverCpuMs(server: ChildProcess): Promise<number> {
  const reply = next<{ cpu: NodeJS.CpuUsage }>(server, 'cpu', 10_000);
  server.send({ type: 'cpu' });
  const { cpu } = await reply;
  return (cpu.user + cpu.system) / 1000;
}

/** Durable commits and the pushes they carried so far, of a server child on a group-committing storage (SQLite). */
export async function serverGroupCommits(server: ChildProcess): Promise<{ commits: number; pushes: number }> {
  const reply = next<{ commits: number; pushes: number }>(server, 'groups', 10_000);
  server.send({ type: 'groups' });
  const { commits, pushes } = await reply;
  return { commits, pushes };
}

/** Time (ms) a thread has spent on a CPU and runnable but waiting for one. */
export interface SchedStat {
  runMs: number;
  waitMs: number;
}

/**
 * Time (ms) the main thread of process `pid` has spent on a CPU and runnable but waiting for
 * one, from Linux's /proc/<pid>/schedstat; undefined where that is not available.
 */
export function schedStat(pid: number | undefined): SchedStat | undefined {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ').map(Number);
    return run === undefined || wait === undefined ? undefined : { runMs: run / 1e6, waitMs: wait / 1e6 };
  } catch {
    return undefined;
  }
}

/** Asks a server child (server.ts) for its resident set size, in MB. */
export async function serverRssMB(server: ChildProcess): Promise<number> {
  const reply = next<{ rss: number }>(server, 'rss', 10_000);
  server.send({ type: 'rss' });
  return Math.round((await reply).rss / 1048576);
}

/** Tells server children to stop gracefully and waits (bounded) for them to exit. */
export async function stopServers(servers: ChildProcess[]): Promise<void> {
  const exits = servers.map(
    (server) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.kill('SIGKILL');
          resolve();
        }, 30_000);
        server.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      }),
  );
  for (const server of servers) server.send({ type: 'stop' });
  await Promise.all(exits);
}

/** The `p`th percentile (0–100) of `values`; 0 when empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** What a load client process reports: latencies (ms) of the requests that succeeded, failures by kind. */
export interface ClientResult {
  pushes: number[];
  pulls: number[];
  errors: Record<string, number>;
}

/** Pushes/s and pulls/s over `seconds`, their p50/p99 and the errors summed, over client processes' results. */
export function throughput(results: ClientResult[], seconds: number) {
  const pushes = results.flatMap((r) => r.pushes);
  const pulls = results.flatMap((r) => r.pulls);
  const errors: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  return {
    pushesPerSecond: Math.round(pushes.length / seconds),
    pushP50Ms: Number(percentile(pushes, 50).toFixed(1)),
    pushP99Ms: Number(percentile(pushes, 99).toFixed(1)),
    pullsPerSecond: Math.round(pulls.length / seconds),
    pullP50Ms: Number(percentile(pulls, 50).toFixed(1)),
    pullP99Ms: Number(percentile(pulls, 99).toFixed(1)),
    errors,
  };
}

/** This process's soft limit on open files (children inherit it); Infinity when unknown. */
export function openFileLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === 'unlimited' ? Number.POSITIVE_INFINITY : Number(soft);
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
