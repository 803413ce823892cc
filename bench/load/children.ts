/**
 * Child processes of `npm run load`: forked with tsx, tracked so the run's time budget can kill
 * every one of them, and spoken to over IPC with a timeout on every wait.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Every child still running; the time budget kills these. */
export const children = new Set<ChildProcess>();

/** Forks `file` (relative to bench/load/) under tsx with an IPC channel. */
export function start(file: string, args: string[]): ChildProcess {
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), args, {
    execArgv: ['--import', 'tsx'],
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
