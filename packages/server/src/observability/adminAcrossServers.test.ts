import { PROTOCOL_HEADER, PROTOCOL_VERSION } from '@ferry/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type PostgresCluster, postgresAvailable, startPostgres } from '../../../../test/support/postgres.js';
import { signDevToken } from '../auth/signDevToken.js';
import { createServer, type FerryServer } from '../createServer.js';
import { defaultSchema } from '../defaultSchema.js';
import { PostgresStorage } from '../storage/PostgresStorage.js';
import { makeChange, pushBody, SECRET, T0 } from '../testing/testServer.js';

const ADMIN_TOKEN = 'admin-token-for-two-processes-0123456789';
const available = postgresAvailable();

/**
 * What docs/operations.md ("Several processes") promises: two server processes over one
 * PostgreSQL each show their own sockets and devices, and the database's heads and size.
 */
describe.skipIf(!available)('the inspector of two processes over one PostgreSQL', () => {
  let cluster: PostgresCluster;
  const servers: FerryServer[] = [];
  const storages: PostgresStorage[] = [];
  // One clock for both processes and their storages, as NTP-synced machines would share.
  const clock = { now: T0 };
  const now = () => clock.now;

  beforeAll(async () => {
    cluster = await startPostgres();
    const url = await cluster.createDatabase();
    for (let i = 0; i < 2; i++) {
      const storage = await PostgresStorage.open({ connectionString: url, maxConnections: 3, now });
      storages.push(storage);
      servers.push(
        await createServer({ storage, schema: defaultSchema, auth: { secret: SECRET }, adminToken: ADMIN_TOKEN, now }),
      );
    }
  }, 90_000);
  afterAll(async () => {
    for (const server of servers) await server.close();
    for (const storage of storages) await storage.close();
    await cluster?.stop();
  });

  const call = async (
    server: FerryServer,
    method: 'GET' | 'POST',
    url: string,
    options: { body?: unknown; device?: string } = {},
  ) => {
    const token = options.device === undefined ? ADMIN_TOKEN : await signDevToken(SECRET, 'alice', { now: clock.now });
    const response = await server.app.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${token}`,
        [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
        ...(options.device === undefined ? {} : { 'ferry-device': `id=${options.device}` }),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(options.body === undefined ? {} : { payload: JSON.stringify(options.body) }),
    });
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  };

  it('shows each process its own sockets and devices, and both the database heads and size', async () => {
    const [a, b] = servers as [FerryServer, FerryServer];
    const { url } = await a.listen({ port: 0, host: '127.0.0.1' });
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/live`);
    socket.on('error', () => undefined);
    const ready = new Promise<void>((resolve) => socket.once('message', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    socket.send(
      JSON.stringify({
        type: 'hello',
        protocolVersion: PROTOCOL_VERSION,
        token: await signDevToken(SECRET, 'alice', { now: clock.now }),
      }),
    );
    await ready;

    const push = (ids: string[]) =>
      call(a, 'POST', '/v1/push', { body: pushBody(ids.map((entityId) => makeChange({ entityId }))), device: 'phone' });
    await push(['t1', 't2', 't3']);
    await call(b, 'GET', '/v1/pull?cursor=0', { device: 'tablet' });
    clock.now += 1_000;
    await push(['t4', 't5']);
    clock.now += 60_000;

    const [overviewA, overviewB] = [
      await call(a, 'GET', '/v1/admin/overview'),
      await call(b, 'GET', '/v1/admin/overview'),
    ];
    expect(overviewA.live.sockets).toBe(1);
    expect(overviewB.live.sockets).toBe(0);
    expect(overviewA.server.process).toEqual(overviewB.server.process); // one OS process in this test
    expect(overviewA.storage).toMatchObject({ backend: 'postgres' });
    expect(overviewB.storage.sizeBytes).toBe(overviewA.storage.sizeBytes);

    const devicesA = await call(a, 'GET', '/v1/admin/devices');
    const devicesB = await call(b, 'GET', '/v1/admin/devices');
    expect(devicesA.devices.map((device: { deviceId: string }) => device.deviceId)).toEqual(['phone']);
    // B served only the tablet and saw none of the pushes: the head and the time of the first
    // write the tablet lacks come from the database.
    expect(devicesB.devices).toEqual([
      expect.objectContaining({
        deviceId: 'tablet',
        cursors: [expect.objectContaining({ cursor: 3, head: 5, lagRecords: 2, lagMs: 60_000 })],
      }),
    ]);
    const spacesA = await call(a, 'GET', '/v1/admin/spaces');
    const spacesB = await call(b, 'GET', '/v1/admin/spaces');
    expect(spacesA.spaces).toEqual([expect.objectContaining({ scope: 'alice', head: 5, devices: 0 })]);
    expect(spacesB.spaces).toEqual([
      expect.objectContaining({ scope: 'alice', head: 5, devices: 1, maxLagRecords: 2 }),
    ]);
    socket.terminate();
  });
});
