import { EventEmitter, once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROTOCOL_HEADER } from '@ferry/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signDevToken } from '../auth/signDevToken.js';
import { SqliteStorage } from '../storage/SqliteStorage.js';
import { makeChange, pushBody } from '../testing/testServer.js';
import { runCli } from './runCli.js';
import { type RunningServe, runServe, type ServeDeps } from './runServe.js';

let cwd: string;
let lines: string[];
let signals: EventEmitter;
let running: RunningServe[];

function deps(extra: Partial<ServeDeps> = {}): ServeDeps {
  return { cwd, env: {}, print: (line) => lines.push(line), signals, logger: false, ...extra };
}

async function serve(argv: string[] = [], extra: Partial<ServeDeps> = {}): Promise<RunningServe> {
  const server = await runServe(['--port', '0', ...argv], deps(extra));
  running.push(server);
  return server;
}

beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'ferry-cli-'));
  lines = [];
  signals = new EventEmitter();
  running = [];
});

afterEach(async () => {
  for (const server of running) await server.shutdown();
  rmSync(cwd, { recursive: true, force: true });
});

describe('ferry serve', () => {
  it('starts with --dev: ./data/ferry.db, a persisted dev secret, printed tokens that work', async () => {
    const first = await serve(['--dev']);
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(existsSync(join(cwd, 'data', 'ferry.db'))).toBe(true);
    const secretFile = join(cwd, 'data', 'dev-secret');
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    expect(lines.join('\n')).toMatch(/dev token for alice: ey/);
    expect(lines.join('\n')).toMatch(/dev token for bob: ey/);

    const token = first.devTokens?.alice as string;
    const pull = await fetch(`${first.url}/v1/pull`, {
      headers: { authorization: `Bearer ${token}`, [PROTOCOL_HEADER]: '1' },
    });
    expect(pull.status).toBe(200);
    const devToken = await fetch(`${first.url}/v1/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [PROTOCOL_HEADER]: '1' },
      body: JSON.stringify({ userId: 'carol' }),
    });
    expect(devToken.status).toBe(200);

    await first.shutdown();
    const secret = readFileSync(secretFile, 'utf8');
    // A restart keeps the secret, so tokens handed out before it still work.
    const second = await serve(['--dev']);
    expect(readFileSync(secretFile, 'utf8')).toBe(secret);
    const again = await fetch(`${second.url}/v1/pull`, {
      headers: { authorization: `Bearer ${token}`, [PROTOCOL_HEADER]: '1' },
    });
    expect(again.status).toBe(200);
  });

  it('on SIGTERM lets an in-flight push finish, then closes the database', async () => {
    const server = await serve(['--dev', '--db', 'db/sync.db']);
    const token = server.devTokens?.alice as string;
    const body = JSON.stringify(pushBody([makeChange({ entityId: 'in-flight' })]));
    const { port } = new URL(server.url);
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/push',
      headers: {
        authorization: `Bearer ${token}`,
        [PROTOCOL_HEADER]: '1',
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      },
    });
    const responded = once(req, 'response');
    const received = once(server.server.app.server, 'request');
    req.write(body.slice(0, 10));
    await received;

    signals.emit('SIGTERM');
    expect(lines).toContain('Shutting down: finishing in-flight requests, then closing the database');
    const stopped = server.shutdown();
    req.end(body.slice(10));
    const [response] = (await responded) as [import('node:http').IncomingMessage];
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(Buffer.concat(chunks).toString()).results[0].status).toBe('applied');

    await stopped;
    expect(lines).toContain('Stopped');
    await expect(server.server.storage.currentSeq('alice')).rejects.toThrow(/not open/);
    await expect(fetch(`${server.url}/health`)).rejects.toThrow();
    const reopened = new SqliteStorage(join(cwd, 'db', 'sync.db'));
    expect(await reopened.getRecord('alice', 'todos', 'in-flight')).not.toBeNull();
    await reopened.close();
  });

  it('loads --schema and fails startup on a bad one, naming the file and problem', async () => {
    writeFileSync(join(cwd, 'schema.json'), JSON.stringify({ entities: { items: { fields: { n: 'number' } } } }));
    const server = await serve(['--dev', '--schema', 'schema.json']);
    const config = await fetch(`${server.url}/v1/config`, { headers: { [PROTOCOL_HEADER]: '1' } });
    expect((await config.json()).entityTypes).toEqual(['items']);

    writeFileSync(join(cwd, 'bad.json'), JSON.stringify({ entities: { items: { fields: { n: 'int' } } } }));
    await expect(runServe(['--port', '0', '--dev', '--schema', 'bad.json'], deps())).rejects.toThrow(
      /bad\.json: Entity type "items": field "n" has type "int"/,
    );
  });

  it('uses FERRY_JWT_SECRET without --dev: no dev route, no printed tokens', async () => {
    const server = await serve([], { env: { FERRY_JWT_SECRET: 'a-production-secret-of-enough-length' } });
    expect(server.devTokens).toBeNull();
    expect(existsSync(join(cwd, 'data', 'dev-secret'))).toBe(false);
    const devToken = await fetch(`${server.url}/v1/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [PROTOCOL_HEADER]: '1' },
      body: JSON.stringify({ userId: 'mallory' }),
    });
    expect(devToken.status).toBe(404);
  });

  it('refuses to start without a secret or --dev, with a short secret, or with both; creates nothing', async () => {
    await expect(runServe(['--port', '0'], deps())).rejects.toThrow(
      expect.objectContaining({ name: 'StartupError', message: expect.stringMatching(/FERRY_JWT_SECRET is not set/) }),
    );
    await expect(runServe(['--port', '0'], deps({ env: { FERRY_JWT_SECRET: 'x'.repeat(31) } }))).rejects.toThrow(
      /FERRY_JWT_SECRET is 31 bytes/,
    );
    await expect(
      runServe(['--port', '0', '--dev'], deps({ env: { FERRY_JWT_SECRET: 'a-production-secret-of-enough-length' } })),
    ).rejects.toThrow(/but FERRY_JWT_SECRET is set/);
    expect(existsSync(join(cwd, 'data'))).toBe(false);
    expect(await runCli(['serve', '--port', '0'], deps())).toBe(1);
  });

  it('takes the clock tolerance from --clock-tolerance or FERRY_JWT_CLOCK_TOLERANCE (default 5 s)', async () => {
    const secret = 'a-production-secret-of-enough-length';
    // Expired one to two seconds ago: inside the default 5 s tolerance, outside 0 s.
    const token = await signDevToken(secret, 'alice', { now: Date.now() - 61_000, expiresIn: 60 });
    const status = async (server: RunningServe) =>
      (
        await fetch(`${server.url}/v1/pull`, {
          headers: { authorization: `Bearer ${token}`, [PROTOCOL_HEADER]: '1' },
          signal: AbortSignal.timeout(5000),
        })
      ).status;
    expect(await status(await serve([], { env: { FERRY_JWT_SECRET: secret } }))).toBe(200);
    expect(await status(await serve(['--clock-tolerance', '0'], { env: { FERRY_JWT_SECRET: secret } }))).toBe(401);
    const fromEnv = await serve([], { env: { FERRY_JWT_SECRET: secret, FERRY_JWT_CLOCK_TOLERANCE: '0' } });
    expect(await status(fromEnv)).toBe(401);
    await expect(runServe(['--clock-tolerance', '301'], deps())).rejects.toThrow(
      /--clock-tolerance takes seconds from 0 to 300, got "301"/,
    );
    await expect(runServe([], deps({ env: { FERRY_JWT_CLOCK_TOLERANCE: '-1' } }))).rejects.toThrow(
      /FERRY_JWT_CLOCK_TOLERANCE takes seconds/,
    );
  });

  it('rejects bad options with a usage error', async () => {
    await expect(runServe(['--port', 'http'], deps())).rejects.toThrow(/--port must be 0-65535/);
    await expect(runServe(['--verbose'], deps())).rejects.toThrow(/Unknown option '--verbose'/);
    expect(await runCli(['migrate'], deps())).toBe(2);
    expect(await runCli(['serve', '--help'], deps())).toBe(0);
    expect(lines.join('\n')).toMatch(/Usage: ferry serve/);
  });
});
