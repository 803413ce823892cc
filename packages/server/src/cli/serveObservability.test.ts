import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunningServe, runServe, type ServeDeps } from './runServe.js';

const SECRET = 'a-production-secret-of-enough-length';
const ADMIN = 'an-admin-token-of-at-least-32-characters';

let cwd: string;
let running: RunningServe[];

function deps(env: Record<string, string> = {}): ServeDeps {
  return {
    cwd,
    env: { FERRY_JWT_SECRET: SECRET, ...env },
    print: () => undefined,
    signals: new EventEmitter(),
    logger: false,
  };
}

async function serve(argv: string[], env: Record<string, string> = {}): Promise<RunningServe> {
  const server = await runServe(['--port', '0', '--db', ':memory:', ...argv], deps(env));
  running.push(server);
  return server;
}

const status = async (url: string, token?: string) =>
  (
    await fetch(url, {
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(5000),
    })
  ).status;

beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'ferry-cli-obs-'));
  running = [];
});

afterEach(async () => {
  for (const server of running) await server.shutdown();
  rmSync(cwd, { recursive: true, force: true });
});

describe('ferry serve: operations flags', () => {
  it('mounts /metrics and the inspector only with FERRY_ADMIN_TOKEN', async () => {
    const closed = await serve([]);
    expect(await status(`${closed.url}/metrics`, ADMIN)).toBe(404);
    expect(await status(`${closed.url}/inspector`)).toBe(404);
    const open = await serve([], { FERRY_ADMIN_TOKEN: ADMIN });
    expect(await status(`${open.url}/metrics`)).toBe(401);
    expect(await status(`${open.url}/metrics`, ADMIN)).toBe(200);
    expect(await status(`${open.url}/inspector`)).toBe(200);
  });

  it('serves /metrics on --metrics-port too, behind the same credential, and stops it on shutdown', async () => {
    const server = await serve(['--metrics-port', '0'], { FERRY_ADMIN_TOKEN: ADMIN });
    expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.metricsUrl).not.toBe(server.url);
    expect(await status(`${server.metricsUrl}/metrics`, ADMIN)).toBe(200);
    expect(await status(`${server.metricsUrl}/metrics`)).toBe(401);
    expect(await status(`${server.metricsUrl}/v1/pull`, ADMIN)).toBe(404);
    await server.shutdown();
    await expect(fetch(`${server.metricsUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).rejects.toThrow();
  });

  it('shows the compaction schedule and its runs in the inspector', async () => {
    const server = await serve(['--tombstone-retention', '30'], { FERRY_ADMIN_TOKEN: ADMIN });
    const overview = async () =>
      (
        await fetch(`${server.url}/v1/admin/overview`, {
          headers: { authorization: `Bearer ${ADMIN}` },
          signal: AbortSignal.timeout(5000),
        })
      ).json() as Promise<{ compaction: { retention: unknown; runs: number } }>;
    expect((await overview()).compaction).toMatchObject({
      retention: { tombstoneRetentionMs: 30 * 86_400_000 },
      runs: 0,
    });
  });

  it('refuses a metrics port without a credential, a bad log format, and a short admin token', async () => {
    await expect(runServe(['--port', '0', '--metrics-port', '0'], deps())).rejects.toThrow(/set FERRY_ADMIN_TOKEN/);
    await expect(runServe(['--port', '0', '--metrics-port', 'x'], deps())).rejects.toThrow(/--metrics-port must be/);
    await expect(runServe(['--port', '0', '--log-format', 'xml'], deps())).rejects.toThrow(
      /--log-format takes "json" or "pretty", got "xml"/,
    );
    await expect(runServe(['--port', '0', '--db', ':memory:'], deps({ FERRY_ADMIN_TOKEN: 'short' }))).rejects.toThrow(
      /at least 32/,
    );
  });
});
