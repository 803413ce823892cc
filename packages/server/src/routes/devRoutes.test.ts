import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/testServer.js';

describe('POST /v1/dev/token (dev mode)', () => {
  let t: TestServer;
  beforeEach(async () => {
    t = await startTestServer({ dev: true });
  });
  afterEach(async () => {
    await t.close();
  });

  it('signs a token the server accepts, scoped to that user', async () => {
    const response = await t.call('POST', '/v1/dev/token', { as: null, body: { userId: 'carol' } });
    expect(response.statusCode).toBe(200);
    const { token } = response.json();
    const auth = { authorization: `Bearer ${token}` };
    await t.call('POST', '/v1/entities/notes', { as: null, headers: auth, body: { id: 'n1' } });
    expect((await t.call('GET', '/v1/entities/notes', { as: 'carol' })).json().records).toHaveLength(1);
    expect((await t.call('GET', '/v1/entities/notes', { as: 'alice' })).json().records).toHaveLength(0);
  });

  it('rejects a bad userId with 400 and still needs the protocol header', async () => {
    const bad = await t.call('POST', '/v1/dev/token', { as: null, body: { userId: '../admin' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('VALIDATION_ERROR');
    const noHeader = await t.call('POST', '/v1/dev/token', {
      as: null,
      body: { userId: 'carol' },
      headers: { 'ferry-protocol': undefined },
    });
    expect(noHeader.statusCode).toBe(426);
  });
});
