/**
 * The demo as a newcomer runs it: the built Todo app served by `ferry serve --dev` (the same
 * `runServe` behind `npm start`), on a temp SQLite file, listening on 127.0.0.1 only.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningServe, runServe } from '@ferry/server';
import { withFileLock } from './fileLock.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The demo's build output. */
export const DEMO_DIST = join(ROOT, 'examples/todo/dist');
const SOURCES = [
  'examples/todo/src',
  'examples/todo/index.html',
  'examples/todo/sw',
  'examples/todo/vite.config.ts',
  'packages/protocol/src',
  'packages/client/src',
  'packages/react-native/src',
];

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function demoIsFresh(): boolean {
  const index = join(DEMO_DIST, 'index.html');
  const builtAt = existsSync(index) ? statSync(index).mtimeMs : 0;
  return builtAt > Math.max(...SOURCES.map((source) => newestMtime(join(ROOT, source))));
}

/**
 * Builds the demo (`npm run build -w examples/todo`) when it is missing or older than its
 * sources. The e2e suites run in parallel processes: a lock keeps two builds from writing
 * dist/ at once, and whoever waited finds it fresh.
 */
export function ensureDemoBuilt(): void {
  if (demoIsFresh()) return;
  const lock = join(tmpdir(), `ferry-demo-build-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}.lock`);
  withFileLock(lock, () => {
    if (demoIsFresh()) return;
    // Vitest sets NODE_ENV=test, which would make Vite build React's development bundle.
    execFileSync('npm', ['run', 'build', '--workspace', 'examples/todo'], {
      cwd: ROOT,
      stdio: 'pipe',
      timeout: 120_000,
      env: { ...process.env, NODE_ENV: 'production' },
    });
  });
}

/** A running demo server and its temp directory. */
export interface DemoServer {
  url: string;
  close(): Promise<void>;
}

/** Starts `ferry serve --dev` on a free port of 127.0.0.1, serving the built demo. */
export async function startDemoServer(): Promise<DemoServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-'));
  let running: RunningServe;
  try {
    running = await runServe(
      ['--port', '0', '--host', '127.0.0.1', '--db', join(dir, 'ferry.db'), '--dev', '--static', DEMO_DIST],
      {
        cwd: dir,
        env: {},
        print: () => undefined,
        logger: false,
        signals: { once: () => undefined, off: () => undefined },
      },
    );
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  if (!running.url.startsWith('http://127.0.0.1:'))
    throw new Error(`The demo server must be on loopback, got ${running.url}`);
  return {
    url: running.url,
    async close() {
      await running.shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
