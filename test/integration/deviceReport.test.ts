import { DEVICE_HEADER, parseDeviceReport } from '@ferry/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness.js';

/**
 * Devices report what only they know (outbox depth, dead letters, last error, versions) in the
 * `ferry-device` header of the sync requests they send anyway; the server keeps the latest per
 * user and device, in memory, for the inspector. Real server on 127.0.0.1, real client stores.
 */
let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

describe('the device report', () => {
  it('reaches the server with the sync requests: outbox, dead letters, versions, and where pulls left the device', async () => {
    // The transport createSyncSystem builds itself (the harness's own would not know the engine's state).
    const phone = await h.device('phone', { config: { appVersion: '2.4.1', remoteAPI: undefined, apiBaseUrl: h.url } });
    await phone.system.collection('todo').insert({ id: 'typo', title: 'in the wrong box' });
    await phone.system.collection('todos').insert({ id: 'milk', title: 'Buy milk' });
    await phone.system.forceSync();
    expect(await phone.system.listDeadLetters()).toHaveLength(1);
    // The next cycle reports the dead letter the previous one produced.
    await phone.system.forceSync();

    const [device] = h.server.observability.devices.list();
    expect(device).toMatchObject({
      user: 'alice',
      deviceId: phone.system.clientId,
      report: { id: phone.system.clientId, outbox: 0, dead: 1, app: '2.4.1', sdk: '0.1.0' },
    });
    expect(device?.lastPushAt).not.toBeNull();
    const head = await h.server.storage.currentSeq('alice');
    expect(device?.cursors).toEqual([expect.objectContaining({ space: null, cursor: head })]);
  });

  it('is ignored, not an error, when malformed', async () => {
    const token = await h.token('alice');
    for (const header of ['outbox=-1', 'id=a;id=b', 'token=abc', 'x'.repeat(300), 'err=lower']) {
      expect(parseDeviceReport(header)).toBeNull();
      const response = await fetch(`${h.url}/v1/pull`, {
        headers: { authorization: `Bearer ${token}`, 'ferry-protocol': '1', [DEVICE_HEADER]: header },
        signal: AbortSignal.timeout(5000),
      });
      expect(response.status).toBe(200);
    }
    expect(h.server.observability.devices.list()).toEqual([]);
  });
});
