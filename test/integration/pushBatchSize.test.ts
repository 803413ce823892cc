/**
 * Changes per push request, negotiated through `GET /v1/config`: a server of this build takes
 * 2,000 (`LIMITS.maxChangesPerPush`) and says so; older ones took 1,000 or 500 and a device must
 * keep to what its server says. A real server on 127.0.0.1 and real SQLite devices.
 */
import { HttpError, type RemoteAPI } from '@ferry/client';
import { LIMITS } from '@ferry/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness, withOverrides } from '../support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

/** Records how many changes each push request carried. */
function countingPushes(sizes: number[]) {
  return (api: RemoteAPI): RemoteAPI =>
    withOverrides(api, {
      push: (request, options) => {
        sizes.push(request.changes.length);
        return api.push(request, options);
      },
    });
}

async function queue(device: Awaited<ReturnType<Harness['device']>>, count: number): Promise<void> {
  await device.system.localStore.write(async (tx) => {
    for (let i = 0; i < count; i++) {
      await device.system.changeTracker.trackChangeIn(tx, 'todos', `t${i}`, 'CREATE', { title: `todo ${i}` });
    }
  });
}

describe('changes per push request', () => {
  it('are up to 2,000 once the server says it takes that many, and every change arrives once', async () => {
    expect(LIMITS.maxChangesPerPush).toBe(2000);
    const sizes: number[] = [];
    const a = await h.device('a', { wrapApi: countingPushes(sizes) });
    await queue(a, 4600);

    const result = await a.system.syncManager.pushChanges();

    expect(result.successful).toBe(4600);
    expect(Math.max(...sizes)).toBe(2000);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(4600);
    const page = await h.server.storage.pull('alice', { cursor: 0, limit: 1000 });
    expect(page.items).toHaveLength(1000);
    expect(await a.system.localStore.countPending()).toBe(0);
  });

  it('stay at what an older server takes: 1,000 or 500 as its config says, 500 without a config', async () => {
    for (const [name, olderConfig, limit] of [
      ['says 1,000', true, 1000],
      ['says 500', true, 500],
      ['has no /v1/config', false, 500],
    ] as const) {
      const sizes: number[] = [];
      // An older server, as far as the device can tell: its config lists 1,000 or 500 changes per
      // push (or the route does not exist) and it refuses a push of more.
      const older = (api: RemoteAPI): RemoteAPI =>
        withOverrides(api, {
          getConfig: async (options) => {
            if (!olderConfig)
              throw new HttpError(404, 'GET /v1/config failed with HTTP 404', { serverCode: 'NOT_FOUND' });
            const config = await api.getConfig(options);
            return { ...config, limits: { ...config.limits, maxChangesPerPush: limit } };
          },
          push: (request, options) => {
            sizes.push(request.changes.length);
            if (request.changes.length > limit) {
              throw new HttpError(413, `A push carries at most ${limit} changes`, {
                serverCode: 'TOO_MANY_CHANGES',
                retryable: false,
              });
            }
            return api.push(request, options);
          },
        });
      const device = await h.device(`old-${limit}-${olderConfig}`, {
        wrapApi: older,
        user: `user-${limit}-${olderConfig}`,
      });
      await queue(device, 2300);

      const result = await device.system.syncManager.pushChanges();

      expect(result.successful, name).toBe(2300);
      expect(Math.max(...sizes), name).toBe(limit);
      expect(await device.system.listDeadLetters(), name).toEqual([]);
    }
  });
});
