import { PROTOCOL_HEADER, PushResponseSchema } from '@ferry/protocol';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeChange, pushBody, startTestServer, type TestServer } from './testing/testServer.js';

describe('over a real socket on 127.0.0.1', () => {
  let t: TestServer;
  let url: string;
  let token: string;

  beforeAll(async () => {
    t = await startTestServer();
    ({ url } = await t.server.listen({ port: 0, host: '127.0.0.1' }));
    token = await t.token('alice');
  });
  afterAll(async () => {
    await t.close();
  });

  const headers = (extra: Record<string, string> = {}) => ({
    [PROTOCOL_HEADER]: '1',
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    ...extra,
  });

  it('listens on an ephemeral port and answers health', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(`${url}/health`);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('pushes, pulls and reads the change log', async () => {
    const change = makeChange({ entityId: 'net-1' });
    const pushed = await fetch(`${url}/v1/push`, {
      method: 'POST',
      headers: headers(),
      body: JSON.stringify(pushBody([change])),
    });
    expect(pushed.status).toBe(200);
    const body = v.parse(PushResponseSchema, await pushed.json());
    expect(body.results[0]?.status).toBe('applied');
    const pulled = await fetch(`${url}/v1/pull?cursor=0&limit=10`, { headers: headers() });
    expect((await pulled.json()).changes).toEqual([body.results[0]?.record]);
    const log = await fetch(`${url}/v1/changes?since=0`, { headers: headers() });
    expect((await log.json()).changes).toEqual([{ ...change, seq: 1 }]);
  });

  it('refuses an oversized body with 413 and stays up', async () => {
    const hash = t.hashDb();
    const response = await fetch(`${url}/v1/push`, {
      method: 'POST',
      headers: headers(),
      body: JSON.stringify({ clientId: 'device-a', changes: [], pad: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      error: { code: 'PAYLOAD_TOO_LARGE', message: expect.any(String), retryable: false },
    });
    expect(t.hashDb()).toBe(hash);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  it('answers malformed JSON, a missing token and an old protocol with JSON errors', async () => {
    const hash = t.hashDb();
    const malformed = await fetch(`${url}/v1/push`, { method: 'POST', headers: headers(), body: '{"clientId":' });
    expect([malformed.status, (await malformed.json()).error.code]).toEqual([400, 'BAD_REQUEST']);
    const anonymous = await fetch(`${url}/v1/pull`, { headers: { [PROTOCOL_HEADER]: '1' } });
    expect([anonymous.status, (await anonymous.json()).error.code]).toEqual([401, 'UNAUTHORIZED']);
    const old = await fetch(`${url}/v1/config`, { headers: { [PROTOCOL_HEADER]: '0' } });
    expect([old.status, (await old.json()).error.code]).toEqual([426, 'UNSUPPORTED_PROTOCOL']);
    expect(t.hashDb()).toBe(hash);
  });

  it('hides the details of an unexpected failure behind a generic 500', async () => {
    const storage = t.server.storage;
    const original = storage.pull.bind(storage);
    // A storage fault is a true boundary: simulate the disk failing under one request.
    storage.pull = async () => {
      throw new Error('SQLITE_IOERR: disk I/O error at /secret/path');
    };
    try {
      const response = await fetch(`${url}/v1/pull`, { headers: headers() });
      expect(response.status).toBe(500);
      const body = await response.json();
      expect(body).toEqual({ error: { code: 'INTERNAL', message: expect.any(String), retryable: true } });
      expect(JSON.stringify(body)).not.toMatch(/SQLITE|secret|at /);
    } finally {
      storage.pull = original;
    }
    expect((await fetch(`${url}/v1/pull`, { headers: headers() })).status).toBe(200);
  });
});

describe('createServer({ dbPath, now })', () => {
  it('stamps write times with the injected clock, so compaction follows it', async () => {
    const t = await startTestServer();
    try {
      const created = makeChange({ entityId: 'clocked' });
      const deleted = makeChange({ entityId: 'clocked', operation: 'DELETE', version: 2, vector: { 'device-a': 2 } });
      for (const change of [created, deleted]) {
        const response = await t.call('POST', '/v1/push', { body: pushBody([change]) });
        expect(response.json().results[0].status).toBe('applied');
      }
      // The virtual clock is years behind the real one: a tombstone written "now" is older than this.
      const removed = await t.server.storage.compact({ tombstonesBefore: t.clock.now + 1 });
      expect(removed.tombstones).toBe(1);
    } finally {
      await t.close();
    }
  });
});
