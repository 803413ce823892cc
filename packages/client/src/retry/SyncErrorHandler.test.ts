import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpError, NetworkError, SyncError, SyncErrorCode } from '../errors.js';
import { SyncErrorHandler, type SyncErrorHandlerOptions } from './SyncErrorHandler.js';
import type { Sleep } from './sleep.js';

/** A sleep that returns at once and remembers how long it was asked to wait. */
function recordingSleep(): { delays: number[]; sleep: Sleep } {
  const delays: number[] = [];
  return {
    delays,
    sleep: async (ms) => {
      delays.push(ms);
    },
  };
}

/** An operation that fails with `errors` in turn, then returns `result`. */
function failing<T>(errors: unknown[], result: T): { operation: () => Promise<T>; attempts: () => number } {
  let attempts = 0;
  return {
    operation: async () => {
      const error = errors[attempts];
      attempts++;
      if (attempts <= errors.length) throw error;
      return result;
    },
    attempts: () => attempts,
  };
}

function handler(options: SyncErrorHandlerOptions = {}) {
  const { delays, sleep } = recordingSleep();
  return { delays, errorHandler: new SyncErrorHandler({ random: () => 0, sleep, ...options }) };
}

describe('Error Handler (the specification tests)', () => {
  let errorHandler: SyncErrorHandler;
  let delays: number[];

  beforeEach(() => {
    const recording = recordingSleep();
    delays = recording.delays;
    errorHandler = new SyncErrorHandler({ maxRetries: 3, baseDelay: 100, sleep: recording.sleep });
  });

  it('should categorize network errors as retryable', () => {
    const categorized = errorHandler.categorizeError(new Error('Network request failed'));
    expect(categorized.code).toBe('NETWORK_ERROR');
    expect(categorized.retryable).toBe(true);
  });

  it('should categorize auth errors as non-retryable', () => {
    const categorized = errorHandler.categorizeError(new Error('401 Unauthorized'));
    expect(categorized.code).toBe('AUTH_ERROR');
    expect(categorized.retryable).toBe(false);
  });

  it('should retry failed operations with backoff', async () => {
    const { operation, attempts } = failing([new Error('Network error'), new Error('Network error')], 'success');
    const result = await errorHandler.executeWithRetry(operation, 'test-op');
    expect(result).toBe('success');
    expect(attempts()).toBe(3);
    expect(delays).toHaveLength(2);
  });
});

describe('executeWithRetry backoff', () => {
  it('waits baseDelay * multiplier^(n-1) before retry n', async () => {
    const { delays, errorHandler } = handler({ maxRetries: 4, baseDelay: 100, backoffMultiplier: 3 });
    const network = new NetworkError('down');
    const { operation } = failing([network, network, network, network], 'ok');
    await expect(errorHandler.executeWithRetry(operation, 'op')).resolves.toBe('ok');
    expect(delays).toEqual([100, 300, 900, 2700]);
  });

  it('caps the delay at maxDelay', async () => {
    const { delays, errorHandler } = handler({ maxRetries: 6, baseDelay: 1000, maxDelay: 5000 });
    const network = new NetworkError('down');
    await errorHandler.executeWithRetry(failing(Array(6).fill(network), 'ok').operation, 'op');
    expect(delays).toEqual([1000, 2000, 4000, 5000, 5000, 5000]);
  });

  it('adds no jitter when random() is 0 and just under jitter*delay when random() is almost 1', () => {
    const low = new SyncErrorHandler({ baseDelay: 1000, jitter: 0.3, random: () => 0 });
    const high = new SyncErrorHandler({ baseDelay: 1000, jitter: 0.3, random: () => 0.999999 });
    for (const retry of [1, 2, 3]) {
      const delay = 1000 * 2 ** (retry - 1);
      expect(low.calculateDelay(retry)).toBe(delay);
      expect(high.calculateDelay(retry)).toBeGreaterThan(delay * 1.29);
      expect(high.calculateDelay(retry)).toBeLessThan(delay * 1.3);
    }
  });

  it('caps jitter too: the delay never exceeds maxDelay', () => {
    const errorHandler = new SyncErrorHandler({ baseDelay: 1000, maxDelay: 1100, random: () => 0.999 });
    expect(errorHandler.calculateDelay(1)).toBe(1100);
  });

  it('throws the categorized error after the last retry and lists the operation', async () => {
    const { delays, errorHandler } = handler({ maxRetries: 2, baseDelay: 10 });
    const original = Object.assign(new Error('Service Unavailable'), { status: 503 });
    const { operation, attempts } = failing([original, original, original, original], 'never');
    const thrown = await errorHandler.executeWithRetry(operation, 'push').catch((error: unknown) => error);
    expect(thrown).toBeInstanceOf(SyncError);
    expect(thrown).toMatchObject({ code: SyncErrorCode.SERVER_ERROR, status: 503, retryable: true });
    expect((thrown as SyncError).originalError).toBe(original);
    expect(attempts()).toBe(3);
    expect(delays).toEqual([10, 20]);
    expect(errorHandler.getFailedOperations()).toEqual([{ operationId: 'push', error: thrown, retryCount: 2 }]);
  });

  it('takes maxRetries per call', async () => {
    const { delays, errorHandler } = handler({ maxRetries: 5, baseDelay: 10 });
    const network = new NetworkError('down');
    const { operation, attempts } = failing(Array(10).fill(network), 'never');
    await expect(errorHandler.executeWithRetry(operation, 'op', { maxRetries: 1 })).rejects.toBe(network);
    expect(attempts()).toBe(2);
    expect(delays).toEqual([10]);
  });
});

describe('non-retryable errors', () => {
  it.each([
    [401, SyncErrorCode.AUTH_ERROR],
    [400, SyncErrorCode.VALIDATION_ERROR],
    [409, SyncErrorCode.CONFLICT_ERROR],
    [426, SyncErrorCode.PROTOCOL_ERROR],
  ])('HTTP %i is thrown at once as %s, without a retry', async (status, code) => {
    const { delays, errorHandler } = handler();
    const error = new HttpError(status, `HTTP ${status}`);
    const { operation, attempts } = failing([error], 'never');
    await expect(errorHandler.executeWithRetry(operation, 'op')).rejects.toMatchObject({ code, retryable: false });
    expect(attempts()).toBe(1);
    expect(delays).toEqual([]);
    expect(errorHandler.getFailedOperations()).toMatchObject([{ operationId: 'op', retryCount: 0 }]);
  });

  it('a foreign error whose message says 403 is not retried', async () => {
    const { errorHandler } = handler();
    const { operation, attempts } = failing([new Error('403 Forbidden')], 'never');
    await expect(errorHandler.executeWithRetry(operation, 'op')).rejects.toMatchObject({ code: 'AUTH_ERROR' });
    expect(attempts()).toBe(1);
  });
});

describe('Retry-After', () => {
  it('uses retryAfterMs instead of the backoff, even past maxDelay', async () => {
    const { delays, errorHandler } = handler({ baseDelay: 100, maxDelay: 1000 });
    const limited = new HttpError(429, 'slow down', { retryAfterMs: 30_000 });
    await errorHandler.executeWithRetry(failing([limited], 'ok').operation, 'op');
    expect(delays).toEqual([30_000]);
  });

  it('caps a Retry-After at maxRetryAfter', () => {
    const errorHandler = new SyncErrorHandler({ maxRetryAfter: 60_000 });
    expect(errorHandler.calculateDelay(1, { retryAfterMs: 86_400_000 })).toBe(60_000);
    expect(new SyncErrorHandler().calculateDelay(1, { retryAfterMs: 86_400_000 })).toBe(600_000);
  });

  it('reads Retry-After seconds from the response of a foreign error', async () => {
    const { delays, errorHandler } = handler();
    const error = Object.assign(new Error('Too Many Requests'), {
      response: { status: 429, headers: new Headers({ 'Retry-After': '7' }) },
    });
    await errorHandler.executeWithRetry(failing([error], 'ok').operation, 'op');
    expect(delays).toEqual([7000]);
  });

  it('reads a Retry-After HTTP-date against the injected clock', async () => {
    const now = Date.UTC(2030, 0, 1, 12, 0, 0);
    const { delays, errorHandler } = handler({ now: () => now });
    const error = {
      statusCode: 503,
      headers: { 'retry-after': new Date(now + 90_000).toUTCString() },
    };
    await errorHandler.executeWithRetry(failing([error], 'ok').operation, 'op');
    expect(delays).toEqual([90_000]);
  });

  describe('from a real HTTP server', () => {
    let server: Server | undefined;
    afterEach(async () => {
      await new Promise((resolve) => server?.close(resolve));
    });

    it('honours the Retry-After of a real 503, then succeeds', async () => {
      let requests = 0;
      server = createServer((_req, res) => {
        requests++;
        if (requests === 1) {
          res.writeHead(503, { 'Retry-After': '2', 'Content-Type': 'text/plain' }).end('busy');
          return;
        }
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('fine');
      });
      await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;

      const { delays, errorHandler } = handler();
      // What a user's own RemoteAPI typically does: attach the response to the error.
      const body = await errorHandler.executeWithRetry(async () => {
        const response = await fetch(`http://127.0.0.1:${port}/`);
        if (!response.ok) throw Object.assign(new Error(`HTTP ${response.status}`), { response });
        return response.text();
      }, 'fetch');
      expect(body).toBe('fine');
      expect(requests).toBe(2);
      expect(delays).toEqual([2000]);
    });
  });
});

describe('abort', () => {
  it('stops waiting at once and throws the abort reason, even if the sleep ignores the signal', async () => {
    const controller = new AbortController();
    let sleeping = false;
    const errorHandler = new SyncErrorHandler({
      sleep: () => {
        sleeping = true;
        return new Promise<void>(() => {});
      },
    });
    const { operation, attempts } = failing(Array(10).fill(new NetworkError('down')), 'never');
    const running = errorHandler.executeWithRetry(operation, 'op', { signal: controller.signal });
    await Promise.resolve();
    await Promise.resolve();
    expect(sleeping).toBe(true);
    const reason = new Error('stopped by the app');
    controller.abort(reason);
    await expect(running).rejects.toBe(reason);
    expect(attempts()).toBe(1);
    // An abort is not a failure of the operation.
    expect(errorHandler.getFailedOperations()).toEqual([]);
  });

  it('does not start an operation when the signal has already aborted', async () => {
    const { errorHandler } = handler();
    const { operation, attempts } = failing([], 'ok');
    await expect(errorHandler.executeWithRetry(operation, 'op', { signal: AbortSignal.abort() })).rejects.toMatchObject(
      { name: 'AbortError' },
    );
    expect(attempts()).toBe(0);
  });

  it('does not retry an operation that failed because of our own abort', async () => {
    const controller = new AbortController();
    const { delays, errorHandler } = handler();
    let attempts = 0;
    const operation = async () => {
      attempts++;
      controller.abort();
      throw new DOMException('This operation was aborted', 'AbortError');
    };
    await expect(errorHandler.executeWithRetry(operation, 'op', { signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(attempts).toBe(1);
    expect(delays).toEqual([]);
  });
});

describe('the error queue', () => {
  it('lists given-up operations until they succeed or are cleared', async () => {
    const { errorHandler } = handler({ maxRetries: 0 });
    const fail = (error: unknown) => () => Promise.reject(error);
    await expect(errorHandler.executeWithRetry(fail(new NetworkError('down')), 'a')).rejects.toThrow();
    await expect(errorHandler.executeWithRetry(fail(new HttpError(400, 'bad')), 'b')).rejects.toThrow();
    await expect(errorHandler.executeWithRetry(fail(new HttpError(500, 'oops')), 'c')).rejects.toThrow();
    expect(errorHandler.getFailedOperations().map((failed) => [failed.operationId, failed.error.code])).toEqual([
      ['a', 'NETWORK_ERROR'],
      ['b', 'VALIDATION_ERROR'],
      ['c', 'SERVER_ERROR'],
    ]);

    await errorHandler.executeWithRetry(async () => 'ok', 'a');
    expect(errorHandler.getFailedOperations().map((failed) => failed.operationId)).toEqual(['b', 'c']);

    errorHandler.clearError('b');
    expect(errorHandler.getFailedOperations().map((failed) => failed.operationId)).toEqual(['c']);

    errorHandler.clearAllErrors();
    expect(errorHandler.getFailedOperations()).toEqual([]);
  });
});

describe('configuration', () => {
  it('keeps the documented defaults', () => {
    expect(new SyncErrorHandler().retryConfig).toMatchObject({
      maxRetries: 5,
      baseDelay: 1000,
      maxDelay: 60_000,
      backoffMultiplier: 2,
      jitter: 0.3,
    });
  });

  it('rejects a nonsensical policy with a clear error', () => {
    expect(() => new SyncErrorHandler({ maxRetries: -1 })).toThrow(/maxRetries must be an integer >= 0/);
    expect(() => new SyncErrorHandler({ backoffMultiplier: 0.5 })).toThrow(/backoffMultiplier/);
  });
});
