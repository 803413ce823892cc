import { describe, expect, it } from 'vitest';
import { ConflictResolver } from './conflicts/ConflictResolver.js';
import { SyncError } from './errors.js';
import { SyncErrorHandler } from './retry/SyncErrorHandler.js';
import { BatchSync } from './sync/BatchSync.js';
import { HttpRemoteAPI } from './transport/HttpRemoteAPI.js';
import { LiveConnection } from './transport/LiveConnection.js';

describe('configuration errors', () => {
  it.each([
    ['an HTTP base URL that is not http(s)', () => new HttpRemoteAPI({ baseUrl: 'ftp://example.com' })],
    ['a zero timeout', () => new HttpRemoteAPI({ baseUrl: 'http://127.0.0.1:1', timeoutMs: 0 })],
    ['a live URL that is not ws(s)', () => new LiveConnection({ url: 'http://127.0.0.1:1/v1/live' })],
    [
      'a BatchSync batch size of 0',
      () => new BatchSync({ batchSync: async () => ({ success: true, failed: [] }) }, undefined, { batchSize: 0 }),
    ],
    ['negative retries', () => new SyncErrorHandler({ maxRetries: -1 })],
    ['an unknown conflict strategy', () => new ConflictResolver('newest-wins' as never)],
  ])('are SyncErrors (VALIDATION_ERROR, not retryable): %s', (_name, build) => {
    let caught: unknown;
    try {
      build();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SyncError);
    expect(caught).toMatchObject({ code: 'VALIDATION_ERROR', retryable: false });
  });
});
