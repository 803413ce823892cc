import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** A process started by {@link spawnTsx}. */
export interface TsxProcess {
  child: ChildProcess;
  /** Resolves when the process has exited (killed or not). */
  exited: Promise<void>;
}

/**
 * Spawns `node --import tsx <args>` from the repository root and hands each stdout line to
 * `onLine`. `children` tracks it until it exits, so a test's `afterEach` can SIGKILL leftovers.
 * With `stdin`, the test can write to the process (`child.stdin`), to let it go on step by step.
 */
export function spawnTsx(
  args: string[],
  onLine: (line: string, child: ChildProcess) => void,
  options: { env?: NodeJS.ProcessEnv; children?: Set<ChildProcess>; stdin?: boolean } = {},
): TsxProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'inherit'],
  });
  options.children?.add(child);
  createInterface({ input: child.stdout! }).on('line', (line) => onLine(line, child));
  const exited = new Promise<void>((done) => child.on('exit', () => done()));
  return { child, exited: exited.then(() => void options.children?.delete(child)) };
}

/** A `ferry serve` process started by {@link spawnServe}. */
export interface ServeProcess extends TsxProcess {
  /** Resolves once the server prints its address, or when it exits first (the caller then sees it is down). */
  ready: Promise<void>;
}

/** Starts `ferry serve` (from source) on 127.0.0.1:`port` over the SQLite file `dbPath`. */
export function spawnServe(
  port: number,
  dbPath: string,
  options: { env?: NodeJS.ProcessEnv; children?: Set<ChildProcess> } = {},
): ServeProcess {
  let up: () => void = () => undefined;
  const ready = new Promise<void>((done) => {
    up = done;
  });
  const proc = spawnTsx(
    ['packages/server/src/cli.ts', 'serve', '--port', String(port), '--db', dbPath],
    (line) => {
      if (line.includes(String(port))) up();
    },
    options,
  );
  return { ...proc, ready: Promise.race([ready, proc.exited]) };
}

/**
 * For a test file that spawns processes: a set to pass as `children` (each still running is
 * SIGKILLed after every test) and a fresh temporary directory per test, removed afterwards.
 */
export function processTestBench(prefix: string): { children: Set<ChildProcess>; dir: () => string } {
  const children = new Set<ChildProcess>();
  let current: string | undefined;
  afterEach(() => {
    for (const child of children) child.kill('SIGKILL');
    children.clear();
    if (current !== undefined) rmSync(current, { recursive: true, force: true });
    current = undefined;
  });
  return {
    children,
    dir: () => {
      current ??= mkdtempSync(join(tmpdir(), prefix));
      return current;
    },
  };
}
