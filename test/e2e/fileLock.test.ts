import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const LOCK_MODULE = fileURLToPath(new URL('./support/fileLock.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-file-lock-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('withFileLock (the demo build lock of the e2e suites)', () => {
  it('lets one process at a time in: two holders never overlap', async () => {
    // Each child appends "<name> in", works 300 ms, appends "<name> out", under the lock.
    const child = (name: string) =>
      run(
        process.execPath,
        [
          '--import',
          'tsx',
          '-e',
          `const { withFileLock } = await import(${JSON.stringify(LOCK_MODULE)});
           const { appendFileSync } = await import('node:fs');
           const log = ${JSON.stringify(join(dir, 'log'))};
           withFileLock(${JSON.stringify(join(dir, 'lock'))}, () => {
             appendFileSync(log, '${name} in\\n');
             Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
             appendFileSync(log, '${name} out\\n');
           });`,
        ],
        { cwd: ROOT, timeout: 30_000 },
      );
    await Promise.all([child('a'), child('b')]);
    const lines = readFileSync(join(dir, 'log'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(4);
    const first = lines[0]?.split(' ')[0];
    const second = first === 'a' ? 'b' : 'a';
    expect(lines).toEqual([`${first} in`, `${first} out`, `${second} in`, `${second} out`]);
  });
});
