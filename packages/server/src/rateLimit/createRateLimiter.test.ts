import { afterEach, describe, expect, it } from 'vitest';
import { makeChange, pushBody, startTestServer, T0, type TestServer } from '../testing/testServer.js';
import { createRateLimiter, rateKindOf } from './createRateLimiter.js';
import type { RateCounter } from './RateCounter.js';

let test: TestServer | undefined;
afterEach(async () => {
  await test?.close();
  test = undefined;
});

const push = (n: number) => ({ body: pushBody([makeChange({ id: `c${n}`, entityId: `t${n}` })]) });

describe('rate limits', () => {
  it('answers 429 RATE_LIMITED with Retry-After once a user spends the minute’s pushes', async () => {
    test = await startTestServer({ rateLimit: { pushesPerMinute: 3 } });
    test.clock.now = T0 - (T0 % 60_000) + 45_500; // 14.5 s before the window ends
    for (let n = 0; n < 3; n += 1) expect((await test.call('POST', '/v1/push', push(n))).statusCode).toBe(200);
    const refused = await test.call('POST', '/v1/push', push(3));
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('15');
    expect(refused.json()).toEqual({
      error: { code: 'RATE_LIMITED', message: expect.stringMatching(/limit is 3 a minute/), retryable: true },
    });
    expect((await test.call('GET', '/v1/pull?cursor=0')).statusCode).toBe(200);
    expect((await test.call('POST', '/v1/push', { as: 'bob', ...push(4) })).statusCode).toBe(200);
  });

  it('refuses before the body is applied, and allows again in the next window', async () => {
    test = await startTestServer({ rateLimit: { pushesPerMinute: 1, pullsPerMinute: 2 } });
    expect((await test.call('POST', '/v1/push', push(0))).statusCode).toBe(200);
    const before = test.hashDb();
    expect((await test.call('POST', '/v1/push', push(1))).statusCode).toBe(429);
    expect(test.hashDb()).toBe(before);
    expect((await test.call('GET', '/v1/pull?cursor=0')).statusCode).toBe(200);
    expect((await test.call('GET', '/v1/changes?since=0')).statusCode).toBe(200);
    expect((await test.call('GET', '/v1/pull?cursor=0')).statusCode).toBe(429);
    test.clock.now += 60_000;
    expect((await test.call('POST', '/v1/push', push(1))).statusCode).toBe(200);
    expect((await test.call('GET', '/v1/pull?cursor=0')).statusCode).toBe(200);
  });

  it('does not count unauthenticated requests or the config route', async () => {
    test = await startTestServer({ rateLimit: { pullsPerMinute: 1 } });
    for (let n = 0; n < 3; n += 1) {
      expect((await test.call('GET', '/v1/pull?cursor=0', { as: null })).statusCode).toBe(401);
      expect((await test.call('GET', '/v1/config')).statusCode).toBe(200);
    }
    expect((await test.call('GET', '/v1/pull?cursor=0')).statusCode).toBe(200);
  });

  it('uses the counter it is given, and none for a kind left unlimited', async () => {
    const keys: string[] = [];
    const counter: RateCounter = {
      hit: async (key) => {
        keys.push(key);
        return 1;
      },
    };
    test = await startTestServer({ rateLimit: { pullsPerMinute: 5, counter } });
    await test.call('POST', '/v1/push', push(0));
    await test.call('GET', '/v1/pull?cursor=0', { as: 'bob' });
    expect(keys).toEqual(['pull:bob']);
  });

  it('is off, with no limiter at all, when no limit is set', () => {
    expect(createRateLimiter({}, undefined, Date.now)).toBeNull();
    expect(createRateLimiter({ pushesPerMinute: 0, pullsPerMinute: 0 }, undefined, Date.now)).toBeNull();
    expect(() => createRateLimiter({ pushesPerMinute: -1 }, undefined, Date.now)).toThrow(/whole number/);
    expect(rateKindOf('GET')).toBe('pull');
    expect(rateKindOf('DELETE')).toBe('push');
  });
});
