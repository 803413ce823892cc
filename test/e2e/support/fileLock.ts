/**
 * A lock between processes on one machine: a directory created with `mkdir` (atomic). The
 * e2e suites run in parallel worker processes and may each find the demo build stale; only
 * one may run `vite build` into the shared dist/ at a time.
 */
import { mkdirSync, rmSync, statSync } from 'node:fs';

/** A holder that died mid-build leaves the lock behind; one older than this is taken over. */
const STALE_MS = 5 * 60_000;
const WAIT_MS = 6 * 60_000;

/** Runs `fn` while holding the lock at `path`; waits (bounded, polling every 100 ms) for another holder. */
export function withFileLock<T>(path: string, fn: () => T): T {
  const deadline = Date.now() + WAIT_MS;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      mkdirSync(path);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const age = Date.now() - (statMtime(path) ?? Date.now());
    if (age > STALE_MS) rmSync(path, { recursive: true, force: true });
    else if (Date.now() > deadline) {
      throw new Error(`${path} is still held after ${WAIT_MS / 1000} s; remove it if no build is running`);
    } else Atomics.wait(nap, 0, 0, 100);
  }
  try {
    return fn();
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
}

function statMtime(path: string): number | null {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}
