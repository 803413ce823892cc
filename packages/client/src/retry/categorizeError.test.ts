import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { HttpError, NetworkError, SyncError, SyncErrorCode } from '../errors.js';
import { categorizeError } from './categorizeError.js';

/** A port nobody listens on: bind one, then close it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function systemError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code, errno: -1, syscall: 'connect' });
}

describe('categorizeError', () => {
  it('categorizes a real fetch to a closed port as a retryable NETWORK_ERROR', async () => {
    const port = await closedPort();
    const rejection = await fetch(`http://127.0.0.1:${port}/`).catch((error: unknown) => error);
    const categorized = categorizeError(rejection);
    expect(categorized).toMatchObject({ code: SyncErrorCode.NETWORK_ERROR, retryable: true });
    expect(categorized.originalError).toBe(rejection);
  });

  it('returns a SyncError as it is', () => {
    const error = new HttpError(409, 'stale');
    expect(categorizeError(error)).toBe(error);
    const network = new NetworkError('down', { retryable: false });
    expect(categorizeError(network)).toMatchObject({ code: 'NETWORK_ERROR', retryable: false });
  });

  it.each([
    [{ status: 401 }, SyncErrorCode.AUTH_ERROR, false],
    [{ status: 403 }, SyncErrorCode.AUTH_ERROR, false],
    [{ statusCode: 400 }, SyncErrorCode.VALIDATION_ERROR, false],
    [{ statusCode: 422 }, SyncErrorCode.VALIDATION_ERROR, false],
    [{ response: { status: 409 } }, SyncErrorCode.CONFLICT_ERROR, false],
    [{ response: { status: 426 } }, SyncErrorCode.PROTOCOL_ERROR, false],
    [{ status: 429 }, SyncErrorCode.RATE_LIMITED, true],
    [{ status: 500 }, SyncErrorCode.SERVER_ERROR, true],
    [{ status: 503 }, SyncErrorCode.SERVER_ERROR, true],
    [{ status: 408 }, SyncErrorCode.NETWORK_ERROR, true],
  ])('decides %j from its status: %s', (fields, code, retryable) => {
    const error = Object.assign(new Error('something went wrong'), fields);
    const categorized = categorizeError(error);
    expect(categorized).toMatchObject({ code, retryable });
    expect(categorized.originalError).toBe(error);
  });

  it('trusts the status over a misleading message', () => {
    expect(categorizeError(Object.assign(new Error('Network is fine, 401 ids'), { status: 500 })).code).toBe(
      'SERVER_ERROR',
    );
  });

  it.each([
    ['React Native', new TypeError('Network request failed')],
    ['Node', new TypeError('fetch failed')],
    ['Chromium', new TypeError('Failed to fetch')],
    ['Safari', new TypeError('Load failed')],
    ['an abort', new DOMException('The operation was aborted.', 'AbortError')],
    ['a timeout signal', new DOMException('The operation timed out.', 'TimeoutError')],
  ])('knows the no-response error of %s', (_platform, error) => {
    expect(categorizeError(error)).toMatchObject({ code: 'NETWORK_ERROR', retryable: true });
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE'])(
    'knows the Node system error %s, also as the cause of fetch failed',
    (code) => {
      expect(categorizeError(systemError(code)).code).toBe('NETWORK_ERROR');
      const wrapped = new Error('request failed', { cause: systemError(code) });
      expect(categorizeError(wrapped).code).toBe('NETWORK_ERROR');
    },
  );

  it('does not call a programming TypeError a network failure', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'id')");
    expect(categorizeError(bug)).toMatchObject({ code: 'UNKNOWN_ERROR', retryable: true });
  });

  it('keeps the code and retryability of a server error body', () => {
    const body = { error: { code: 'UNKNOWN_ENTITY_TYPE', message: 'no type "x"', retryable: false } };
    expect(categorizeError(body)).toMatchObject({
      code: 'VALIDATION_ERROR',
      serverCode: 'UNKNOWN_ENTITY_TYPE',
      retryable: false,
      message: 'no type "x"',
    });
    const unavailable = Object.assign(new Error('x'), { code: 'UNAVAILABLE', retryable: true, status: 503 });
    expect(categorizeError(unavailable)).toMatchObject({
      code: 'SERVER_ERROR',
      serverCode: 'UNAVAILABLE',
      status: 503,
    });
  });

  describe('message patterns, for foreign errors only', () => {
    it.each([
      ['401 Unauthorized', 'AUTH_ERROR'],
      ['Request failed with status code 403', 'AUTH_ERROR'],
      ['HTTP 409: version mismatch', 'CONFLICT_ERROR'],
      ['HTTP/1.1 503 Service Unavailable', 'SERVER_ERROR'],
      ['Internal Server Error', 'SERVER_ERROR'],
      ['422 Unprocessable Entity', 'VALIDATION_ERROR'],
      ['Too Many Requests', 'RATE_LIMITED'],
      ['Network error', 'NETWORK_ERROR'],
      ['Request timed out', 'NETWORK_ERROR'],
      ['connect ECONNREFUSED 10.0.0.1:443', 'NETWORK_ERROR'],
      ['Unauthorized', 'AUTH_ERROR'],
      ['Edit conflict on todo 7', 'CONFLICT_ERROR'],
    ])('%s → %s', (message, code) => {
      expect(categorizeError(new Error(message)).code).toBe(code);
      expect(categorizeError(message).code).toBe(code);
    });

    it.each([
      'Cannot save todo-401',
      'record v1.500 is missing',
      'id a/503 not found',
      'todo_4031 failed',
      'object #404 gone',
      'Order 15003 failed',
    ])('does not read a status out of an id: %s', (message) => {
      expect(categorizeError(new Error(message)).code).toBe('UNKNOWN_ERROR');
    });
  });

  it('categorizes values that are not errors', () => {
    expect(categorizeError(undefined)).toMatchObject({ code: 'UNKNOWN_ERROR', message: 'Unknown error' });
    expect(categorizeError(42)).toMatchObject({ code: 'UNKNOWN_ERROR', retryable: true });
    expect(categorizeError({ status: 502 })).toMatchObject({ code: 'SERVER_ERROR', status: 502 });
  });

  describe('Retry-After', () => {
    const now = Date.UTC(2030, 5, 1);

    it('takes retryAfterMs from the error', () => {
      expect(categorizeError({ status: 429, retryAfterMs: 1234 }, now).retryAfterMs).toBe(1234);
    });

    it('reads seconds or an HTTP-date from a fetch Response', () => {
      const seconds = { response: new Response(null, { status: 429, headers: { 'Retry-After': '120' } }) };
      expect(categorizeError(seconds, now)).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 120_000 });
      const date = new Date(now + 45_000).toUTCString();
      const dated = { response: new Response(null, { status: 503, headers: { 'Retry-After': date } }) };
      expect(categorizeError(dated, now)).toMatchObject({ code: 'SERVER_ERROR', retryAfterMs: 45_000 });
    });

    it('reads a plain header object with any casing, and ignores a broken value', () => {
      expect(categorizeError({ status: 503, headers: { 'RETRY-AFTER': '3' } }, now).retryAfterMs).toBe(3000);
      expect(categorizeError({ status: 503, headers: { 'retry-after': 'soon' } }, now).retryAfterMs).toBeUndefined();
    });
  });

  it('returns SyncError instances', () => {
    expect(categorizeError(new Error('x'))).toBeInstanceOf(SyncError);
  });
});
