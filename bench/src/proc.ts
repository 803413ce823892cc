/**
 * Child processes for the benchmark: every server and every measured client runs in its own
 * Node process (compiled to plain JavaScript, see {@link compile}), so a client's peak RSS is
 * its own and servers do not share an event loop with the client they serve. Messages travel
 * over the IPC channel.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

/** A message a child sends to its parent. */
export type ChildMessage = { type: 'ready'; url: string; token?: string } | { type: 'result'; value: unknown };

/** A running child: its first `ready` message and a way to stop it. */
export interface RunningChild {
  child: ChildProcess;
  url: string;
  token: string | undefined;
  stop(): Promise<void>;
}

function entry(relative: string): string {
  return fileURLToPath(new URL(relative, import.meta.url).href);
}

/** Where each child's entry is compiled to (inside the repo, so its imports resolve from node_modules). */
const buildDir = fileURLToPath(new URL('../.build/', import.meta.url).href);
const compiled = new Set<string>();

/**
 * The child's entry as plain JavaScript, compiled once per run: the bench's modules and the
 * `@ferry/*` packages from their TypeScript sources (through the tsconfig paths, as tsx resolved
 * them) in one file, the dependencies from node_modules (better-sqlite3, fastify, PouchDB)
 * imported as they are. A child started through tsx's loader would carry the loader's thread in
 * every figure (about 37 MB of RSS in each process, measured), which no app has.
 */
function compile(relative: string): string {
  const outfile = join(buildDir, relative.replace(/^\.\//, '').replace(/\.ts$/, '.mjs'));
  if (!compiled.has(outfile)) {
    buildSync({
      entryPoints: [entry(relative)],
      outfile,
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'error',
    });
    compiled.add(outfile);
  }
  return outfile;
}

function spawn(relative: string, args: readonly string[], extraExecArgv: readonly string[] = []): ChildProcess {
  return fork(compile(relative), [...args], {
    execArgv: [...extraExecArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function firstMessage<T extends ChildMessage['type']>(
  child: ChildProcess,
  type: T,
  timeoutMs: number,
  what: string,
): Promise<Extract<ChildMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message: ChildMessage) => {
      if (message.type !== type) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve(message as Extract<ChildMessage, { type: T }>);
    };
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with code ${code} before sending "${type}"`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Starts a server child and waits for it to listen (seeding included in `timeoutMs`). */
export async function startServerChild(
  relative: string,
  args: readonly string[],
  timeoutMs: number,
  extraExecArgv: readonly string[] = [],
) {
  const child = spawn(relative, args, extraExecArgv);
  const ready = await firstMessage(child, 'ready', timeoutMs, relative);
  const running: RunningChild = {
    child,
    url: ready.url,
    token: ready.token,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.send({ type: 'stop' });
      }),
  };
  return running;
}

/** Runs a scenario child to completion and returns what it reported. */
export async function runScenarioChild<T>(
  relative: string,
  args: readonly string[],
  timeoutMs: number,
  extraExecArgv: readonly string[] = [],
): Promise<T> {
  const child = spawn(relative, args, extraExecArgv);
  const result = await firstMessage(child, 'result', timeoutMs, relative);
  await new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
  return result.value as T;
}

/** In a child: sends a message to the parent. */
export function report(message: ChildMessage): void {
  process.send?.(message);
}

/** In a server child: calls `close` when the parent says stop (or goes away), then exits. */
export function onStop(close: () => Promise<void>): void {
  const stop = async () => {
    await close().catch(() => undefined);
    process.exit(0);
  };
  process.on('message', (message: { type?: string }) => {
    if (message?.type === 'stop') void stop();
  });
  process.on('disconnect', () => void stop());
}

/** In a scenario child: reports the result, then exits (closing the IPC channel). */
export function finish(value: unknown): void {
  process.send?.({ type: 'result', value }, () => process.exit(0));
}
