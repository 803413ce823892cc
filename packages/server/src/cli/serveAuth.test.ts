import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PROTOCOL_HEADER } from '@ferry/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/**
 * `ferry serve` as a real process (the source entry point under tsx, so the test never runs a
 * stale build): without a secret it must refuse to start, never fall back to dev auth.
 */
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const CLI = join(ROOT, 'packages/server/src/cli.ts');
const EXIT_TIMEOUT_MS = 20_000;

let dir: string;
const children = new Set<ChildProcess>();

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-serve-auth-'));
});
afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  stdout: string[];
  stderr: () => string;
  exited: Promise<number | null>;
  /** Resolves with the first stdout line matching `pattern` (bounded). */
  line(pattern: RegExp): Promise<string>;
}

/** `node --import tsx cli.ts <args>` with no FERRY_* variables but `env`; killed if it hangs. */
function ferry(args: string[], env: Record<string, string> = {}): Run {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('FERRY_')));
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    env: { ...inherited, FERRY_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const stdout: string[] = [];
  let stderr = '';
  const waiting: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    stdout.push(line);
    for (const wait of waiting.filter((w) => w.pattern.test(line))) wait.resolve(line);
  });
  child.stderr!.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const kill = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(kill);
      children.delete(child);
      resolve(code);
    }),
  );
  return {
    child,
    stdout,
    stderr: () => stderr,
    exited,
    line: (pattern) =>
      new Promise((resolve, reject) => {
        const found = stdout.find((line) => pattern.test(line));
        if (found !== undefined) return resolve(found);
        waiting.push({ pattern, resolve });
        void exited.then(() => reject(new Error(`ferry exited before printing ${pattern}: ${stderr}`)));
      }),
  };
}

describe('ferry serve auth, as a real process', () => {
  it('refuses to start without FERRY_JWT_SECRET and without --dev: exit 1, says how to fix it, creates nothing', async () => {
    const db = join(dir, 'nested', 'ferry.db');
    const run = ferry(['serve', '--port', '0', '--db', db]);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toMatch(/refusing to start\. FERRY_JWT_SECRET is not set/);
    expect(run.stderr()).toMatch(/openssl rand -base64 48/);
    expect(run.stderr()).toMatch(/or pass --dev for local development/);
    expect(run.stdout.join('\n')).not.toMatch(/listening|dev token/);
    expect(existsSync(join(dir, 'nested'))).toBe(false);
  });

  it('refuses a FERRY_JWT_SECRET shorter than 32 bytes: exit 1', async () => {
    const run = ferry(['serve', '--port', '0', '--db', join(dir, 'ferry.db')], {
      FERRY_JWT_SECRET: 'x'.repeat(31),
    });
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toMatch(/FERRY_JWT_SECRET is 31 bytes; .* at least 32 random bytes/);
  });

  it('refuses --dev while FERRY_JWT_SECRET is set: the dev token route never sits beside a real secret', async () => {
    const run = ferry(['serve', '--dev', '--port', '0', '--db', join(dir, 'ferry.db')], {
      FERRY_JWT_SECRET: 'a-production-secret-of-enough-length-0123',
    });
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toMatch(/--dev .* but FERRY_JWT_SECRET is set/);
  });

  it("serves with dev tokens for alice and bob when run with `npm start`'s flags", async () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const [build, serve] = (scripts.start as string).split(' && ');
    expect(build).toBe('npm run build');
    const [bin, ...flags] = (serve as string).split(' ');
    expect(bin).toBe('ferry');

    const run = ferry([...flags, '--port', '0', '--db', join(dir, 'ferry.db')]);
    const listening = await run.line(/listening on http:\/\/127\.0\.0\.1:\d+/);
    const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(listening)?.[1] as string;
    await run.line(/dev token for bob: ey/);
    const alice = /dev token for alice: (\S+)/.exec(run.stdout.join('\n'))?.[1];
    const pull = await fetch(`${url}/v1/pull`, {
      headers: { authorization: `Bearer ${alice}`, [PROTOCOL_HEADER]: '1' },
      signal: AbortSignal.timeout(5000),
    });
    expect(pull.status).toBe(200);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });
});
