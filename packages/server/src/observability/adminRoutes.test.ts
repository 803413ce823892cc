import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChangeDecider } from '../storage/ServerStorage.js';
import { makeChange, pushBody, SECRET, startTestServer, T0, type TestServer } from '../testing/testServer.js';

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
        // The schema check's message quotes what it received.
        makeChange({ entityId: 'z', timestamp: 'secret-title-42' as never }),
      ]),
      headers: { 'ferry-device': 'id=phone' },
    });
    await t.call('GET', '/v1/pull?cursor=0', { headers: { 'ferry-device': 'id=phone' } });
    for (const path of ['/v1/admin/overview', '/v1/admin/devices']) {
      const body = (await t.call('GET', path, admin)).body;
      expect(body).not.toContain('secret-title-42');
    }
    expect((await t.call('GET', '/v1/admin/overview', admin)).json().recentRejections).toEqual([
      expect.objectContaining({ code: 'VALIDATION_ERROR', message: expect.stringMatching(/timestamp: .*received …/) }),
      expect.objectContaining({ user: 'alice', entityType: 'todos', code: 'VALIDATION_ERROR' }),
    ]);
  });

  it('lists each space with its head, compaction horizons, last push and how far its devices lag', async () => {
    t = await startTestServer({ adminToken: ADMIN_TOKEN, membership: { source: 'token', claim: 'teams' } });
    const space = 'sp_team00001';
    const teamToken = (user: string) =>
      new SignJWT({ sub: user, teams: { [space]: 'editor' } })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setExpirationTime(Math.floor(T0 / 1000) + 3600)
        .sign(new TextEncoder().encode(SECRET));
    const asUser = async (user: string, device: string) => ({
      as: null,
      headers: { authorization: `Bearer ${await teamToken(user)}`, 'ferry-device': `id=${device}` },
    });
    const write = (entityId: string, deleted = false) =>
      makeChange({ entityId, space, ...(deleted ? { operation: 'DELETE', data: null, version: 2 } : {}) } as never);
    await t.call('POST', '/v1/push', { body: pushBody([write('a'), write('b')]), ...(await asUser('erin', 'e1')) });
    await t.call('POST', '/v1/pull', { body: { spaces: { [space]: 0 } }, ...(await asUser('vic', 'v1')) });
    await t.call('POST', '/v1/push', {
      body: pushBody([makeChange({ entityId: 'p' })]),
      ...(await asUser('vic', 'v1')),
    });
    t.clock.now += 1_000;
    await t.call('POST', '/v1/push', {
      body: pushBody([write('a', true), write('c')]),
      ...(await asUser('erin', 'e1')),
    });
    t.clock.now += 30_000;
    // Compaction removes the tombstone of "a" (seq 3): a cursor below 3 must now reset.
    await t.server.storage.compact({ tombstonesBefore: t.clock.now });

    const { spaces } = (await t.call('GET', '/v1/admin/spaces', admin)).json();
    expect(spaces).toEqual([
      expect.objectContaining({
        scope: space,
        kind: 'shared',
        head: 4,
        pullHorizon: 3,
        lastPushAt: T0 + 1_000,
        devices: 1,
        behind: 1,
        maxLagRecords: 2,
        maxLagMs: 30_000,
      }),
      expect.objectContaining({ scope: 'vic', kind: 'private', head: 1, pullHorizon: 0, devices: 0 }),
    ]);
    const { devices } = (await t.call('GET', '/v1/admin/devices', admin)).json();
    expect(devices.find((device: { deviceId: string }) => device.deviceId === 'v1').cursors).toEqual([
      expect.objectContaining({ space, cursor: 2, head: 4, lagRecords: 2, mustReset: true }),
    ]);
  });

  it('shows rates as time series, the storage, compaction runs and group-commit sizes when recorded', async () => {
    t = await startTestServer({ adminToken: ADMIN_TOKEN });
    await t.call('POST', '/v1/push', { body: pushBody([makeChange({ entityId: 'a' })]) });
    t.clock.now += 60_000;
    await t.call('POST', '/v1/push', { body: pushBody([makeChange({ entityId: 'b' })]) });
    await t.call('GET', '/v1/pull?cursor=0');
    let overview = (await t.call('GET', '/v1/admin/overview', admin)).json();
    // 20 slices of 15 s over the last 5 minutes, oldest first: the first push opened the slice
    // that starts 60 s ago, the second is in the last one.
    const pushes = overview.series.push.map((point: { count: number }) => point.count);
    expect(pushes).toHaveLength(20);
    expect(pushes.slice(-5)).toEqual([0, 1, 0, 0, 1]);
    expect(overview.series.push[16].at).toBe(t.clock.now - 60_000);
    expect(overview.series.pull.at(-1)).toMatchObject({ count: 1, p50Ms: expect.any(Number) });
    expect(overview.storage).toEqual({ backend: 'sqlite', sizeBytes: expect.any(Number) });
    expect(overview.compaction).toMatchObject({ retention: null, runs: 0, lastRunAt: null });
    // Two pushes on SQLite, each its own group commit (one turn of the event loop apart).
    expect(overview.groupCommit).toEqual({ commits: 2, pushes: 2 });

    const watch = t.server.observability.compaction;
    watch.retain({ tombstoneRetentionMs: 86_400_000 });
    watch.compacted({ tombstones: 2, changes: 0 });
    watch.failed(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }));
    // Three pushes handed to the storage in one turn: one more commit, of three.
    const skip: ChangeDecider = (input) => ({
      kind: 'skip',
      result: { changeId: input.change.id, status: 'duplicate' },
    });
    await Promise.all(
      ['x', 'y', 'z'].map((scope) => t!.server.storage.applyChanges(scope, [makeChange({ entityId: 'c' })], skip)),
    );
    overview = (await t.call('GET', '/v1/admin/overview', admin)).json();
    expect(overview.compaction).toMatchObject({
      retention: { tombstoneRetentionMs: 86_400_000 },
      runs: 1,
      failures: 1,
      lastRunAt: t.clock.now,
      lastResult: { tombstones: 2, changes: 0 },
      lastError: { type: 'Error', code: '57P01' },
    });
    expect(overview.groupCommit).toEqual({ commits: 3, pushes: 5 });
    const metrics = (await t.call('GET', '/metrics', admin)).body;
    expect(metrics).toMatch(/ferry_compactions_total\{outcome="failed"\} 1/);
    expect(metrics).toMatch(/ferry_compacted_rows_total\{kind="tombstones"\} 2/);
  });
});
