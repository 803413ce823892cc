import { afterEach, describe, expect, it } from 'vitest';
import { makeChange, pushBody, startTestServer, type TestServer } from '../testing/testServer.js';

const ADMIN_TOKEN = 'admin-token-that-is-long-enough-0123456789';
const admin = { as: null, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } };

describe('/v1/admin', () => {
  let t: TestServer;
  afterEach(async () => {
    await t.close();
  });

  it('lists each device with its report, cursor, and lag in records and time', async () => {
    t = await startTestServer({ adminToken: ADMIN_TOKEN });
    const report = (id: string) => ({ 'ferry-device': `id=${id};outbox=2;dead=0;app=1.0.0;sdk=0.1.0` });
    await t.call('POST', '/v1/push', { body: pushBody([makeChange({ entityId: 'a' })]), headers: report('phone') });
    await t.call('GET', '/v1/pull?cursor=0', { headers: report('phone') });
    await t.call('GET', '/v1/pull?cursor=0', { headers: report('tablet') });
    t.clock.now += 1_000;
    await t.call('POST', '/v1/push', {
      body: pushBody([makeChange({ entityId: 'b' }), makeChange({ entityId: 'c' })]),
      headers: report('phone'),
    });
    t.clock.now += 60_000;

    const answer = (await t.call('GET', '/v1/admin/devices', admin)).json();
    const byId = new Map(answer.devices.map((device: { deviceId: string }) => [device.deviceId, device]));
    expect(byId.get('tablet')).toMatchObject({
      user: 'alice',
      report: { outbox: 2, dead: 0, app: '1.0.0', sdk: '0.1.0' },
      lastPushAt: null,
      cursors: [{ space: null, cursor: 1, head: 3, lagRecords: 2, lagMs: 60_000 }],
    });
    expect(byId.get('phone')).toMatchObject({ cursors: [{ cursor: 1, head: 3, lagRecords: 2 }] });

    const overview = (await t.call('GET', '/v1/admin/overview', admin)).json();
    expect(overview.server).toMatchObject({ protocol: 1, version: expect.any(String) });
    expect(overview.rates.push.count).toBe(2);
    expect(overview.rates.pull.count).toBe(2);
    expect(overview.storage.sizeBytes).toBeGreaterThan(0);
    // Past the window the rates are empty again: memory does not keep every sample.
    t.clock.now += 10 * 60_000;
    expect((await t.call('GET', '/v1/admin/overview', admin)).json().rates.push).toMatchObject({
      count: 0,
      p50Ms: null,
    });
  });

  it('never answers with record contents', async () => {
    t = await startTestServer({ adminToken: ADMIN_TOKEN });
    await t.call('POST', '/v1/push', {
      body: pushBody([
        makeChange({ entityId: 'x', data: { title: 'secret-title-42' } }),
        makeChange({ entityId: 'y', data: { title: 7 } as never }),
      ]),
      headers: { 'ferry-device': 'id=phone' },
    });
    await t.call('GET', '/v1/pull?cursor=0', { headers: { 'ferry-device': 'id=phone' } });
    for (const path of ['/v1/admin/overview', '/v1/admin/devices']) {
      const body = (await t.call('GET', path, admin)).body;
      expect(body).not.toContain('secret-title-42');
    }
    expect((await t.call('GET', '/v1/admin/overview', admin)).json().recentRejections).toEqual([
      expect.objectContaining({ user: 'alice', entityType: 'todos', code: 'VALIDATION_ERROR' }),
    ]);
  });
});
