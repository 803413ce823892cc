import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from '@ferry/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_PULLS_PER_MINUTE, DEFAULT_PUSHES_PER_MINUTE, parseRateLimitFlags } from './rateLimitFlags.js';
import { type RunningServe, runServe, UsageError } from './runServe.js';

const usage = (message: string) => new UsageError(message);
let running: RunningServe | undefined;
let dir: string | undefined;
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const signals = { once: () => undefined, off: () => undefined };

describe('ferry serve rate-limit flags', () => {
  it('turns generous per-user limits on by default', () => {
    expect(parseRateLimitFlags({}, usage)).toEqual({
      pushesPerMinute: DEFAULT_PUSHES_PER_MINUTE,
      pullsPerMinute: DEFAULT_PULLS_PER_MINUTE,
    });
    expect(parseRateLimitFlags({ 'pushes-per-minute': '0', 'pulls-per-minute': '12' }, usage)).toEqual({
      pushesPerMinute: 0,
      pullsPerMinute: 12,
    });
  });

  it('rejects a value that is not a whole number, naming the flag', () => {
    for (const bad of ['-1', '1.5', 'lots', '']) {
      expect(() => parseRateLimitFlags({ 'pulls-per-minute': bad }, usage)).toThrow(UsageError);
    }
    expect(() => parseRateLimitFlags({ 'pushes-per-minute': 'x' }, usage)).toThrow(/--pushes-per-minute/);
  });

  it('answers 429 with Retry-After past --pulls-per-minute', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-serve-'));
    running = await runServe(['--port', '0', '--db', ':memory:', '--dev', '--pulls-per-minute', '2'], {
      cwd: dir,
      env: {},
      print: () => undefined,
      logger: false,
      signals,
    });
    const token = running.devTokens?.alice as string;
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let n = 0; n < 3; n += 1) {
      const response = await fetch(`${running.url}/v1/pull?cursor=0`, {
        headers: { authorization: `Bearer ${token}`, [PROTOCOL_HEADER]: String(PROTOCOL_VERSION) },
        signal: AbortSignal.timeout(10_000),
      });
      await response.arrayBuffer();
      statuses.push(response.status);
      retryAfter = response.headers.get('retry-after');
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
  });
});
