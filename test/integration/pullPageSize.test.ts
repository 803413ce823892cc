/**
 * Records per pull page, negotiated through `GET /v1/config` as the push's changes per request
 * are: a server of this build takes a `limit` of up to 2,000 (`LIMITS.maxPullLimit`) on
 * `GET /v1/pull`, `POST /v1/pull` and snapshot pages, and says so; older ones took 1,000 and
 * answered more with a 400, so a device asks for no more than its server says (1,000 when it
 * says nothing). A real server on 127.0.0.1 and real SQLite devices (postgresConvergence.test.ts
 * runs this file again on PostgreSQL).
 */
import { HttpError, type RemoteAPI } from '@ferry/client';
import { LIMITS } from '@ferry/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Device, type Harness, startHarness } from '../support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

/** One pull request as the device sent it, and how many records its answer held. */
interface PullCall {
  route: 'GET' | 'POST';
  limit: number | undefined;
  records: number;
}

/**
 * The device's transport, recording every pull (`GET /v1/pull` and `POST /v1/pull`). With
 * `older`, it stands in for an older server: its config says `older.maxPullLimit` (or, when that
 * is null, it has no `/v1/config`), and it answers a larger `limit` with the 400 such a server sent.
 */
function recording(calls: PullCall[], older?: { maxPullLimit: number | null }) {
  const refuse = (limit: number | undefined) => {
    const most = older?.maxPullLimit ?? LIMITS.legacyMaxPullLimit;
    if (older && limit !== undefined && limit > most) {
      throw new HttpError(400, `limit must be between 1 and ${most}`, {
        serverCode: 'VALIDATION_ERROR',
        retryable: false,
      });
    }
  };
  return (api: RemoteAPI): RemoteAPI => {
    const overrides: Partial<RemoteAPI> = {
      pull: async (params, options) => {
        refuse(params.limit);
        const response = await api.pull(params, options);
        calls.push({ route: 'GET', limit: params.limit, records: response.changes.length });
        return response;
      },
      pullSpaces: async (request, options) => {
        refuse(request.limit);
        const response = await api.pullSpaces!(request, options);
        const records = response.pages.reduce((sum, page) => sum + page.changes.length, 0);
        calls.push({ route: 'POST', limit: request.limit, records });
        return response;
      },
      getConfig: async (options) => {
        if (older?.maxPullLimit === null) {
          throw new HttpError(404, 'GET /v1/config failed with HTTP 404', { serverCode: 'NOT_FOUND' });
        }
        const config = await api.getConfig(options);
        return older ? { ...config, limits: { ...config.limits, maxPullLimit: older.maxPullLimit } } : config;
      },
    };
    return new Proxy(api, {
      get(target, property) {
        const override = overrides[property as keyof RemoteAPI];
        if (override) return override;
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
}

/** `count` todos written on a device of `user` (in `space`, when given) and pushed to the server. */
async function written(user: string, count: number, space?: string): Promise<Device> {
  const writer = await h.device(`writer-${user}`, { user });
  await writer.system.localStore.write(async (tx) => {
    for (let i = 0; i < count; i++) {
      await writer.system.changeTracker.trackChangeIn(
        tx,
        'todos',
        `t${i}`,
        'CREATE',
        { title: `todo ${i}` },
        { space },
      );
    }
  });
  const result = await writer.system.syncManager.pushChanges();
  expect(result.successful).toBe(count);
  return writer;
}

const most = (calls: PullCall[], key: 'limit' | 'records') => Math.max(...calls.map((call) => call[key] ?? 0));

describe('records per pull page', () => {
  it('are up to 2,000 once the server says it takes that many, and every record arrives once', async () => {
    expect(LIMITS.maxPullLimit).toBe(2000);
    await written('alice', 4600);
    const calls: PullCall[] = [];
    const reader = await h.device('reader', { wrapApi: recording(calls) });

    const result = await reader.system.syncManager.pullChanges();

    expect(result.totalChanges).toBe(4600);
    expect((await reader.todos()).length).toBe(4600);
    // The first request leaves before the config is read: at most what every server takes.
    expect(calls[0]).toMatchObject({ route: 'POST', limit: LIMITS.legacyMaxPullLimit, records: 1000 });
    // The rest of the private space in GET pages of 2,000 (a POST round for the shared spaces, of
    // 2,000 too, may go between them).
    const pages = calls.slice(1).filter((call) => call.route === 'GET');
    expect(pages.map((call) => [call.limit, call.records])).toEqual([
      [2000, 2000],
      [2000, 1600],
    ]);
    expect(most(calls, 'limit')).toBe(2000);
  });

  it('are 2,000 from the first request of a restarted app, which kept what its server said', async () => {
    const writer = await written('alice', 10);
    const calls: PullCall[] = [];
    const reader = await h.device('reader', { wrapApi: recording(calls) });
    await reader.system.syncManager.pullChanges();
    const restarted = await reader.restart();
    await writer.system.localStore.write(async (tx) => {
      for (let i = 10; i < 2510; i++) {
        await writer.system.changeTracker.trackChangeIn(tx, 'todos', `t${i}`, 'CREATE', { title: `todo ${i}` });
      }
    });
    await writer.system.syncManager.pushChanges();
    calls.length = 0;

    const result = await restarted.system.syncManager.pullChanges();

    expect(result.totalChanges).toBe(2500);
    expect(calls[0]).toMatchObject({ route: 'POST', limit: 2000, records: 2000 });
  });

  it('backfill a shared space in pages of 2,000 through POST /v1/pull', async () => {
    const owner = await h.device('alice-phone', { user: 'alice' });
    const { id: space } = await owner.system.spaces.create({ name: 'Big list' });
    await owner.system.spaces.addMember(space, 'bob', 'viewer');
    await owner.system.forceSync();
    await written('alice', 4300, space);
    const calls: PullCall[] = [];
    const bob = await h.device('bob-phone', { user: 'bob', wrapApi: recording(calls) });

    await bob.system.forceSync();

    expect((await bob.system.collection('todos').find({ space })).length).toBe(4300);
    expect(calls.every((call) => call.route === 'POST')).toBe(true);
    expect(most(calls, 'limit')).toBe(2000);
    expect(most(calls, 'records')).toBe(2000);
  });

  it('keep a page size the app configured, within what the server takes', async () => {
    await written('alice', 2600);
    for (const pageSize of [700, 1500]) {
      const calls: PullCall[] = [];
      const reader = await h.device(`reader-${pageSize}`, { wrapApi: recording(calls), config: { pageSize } });

      const result = await reader.system.syncManager.pullChanges();

      expect(result.totalChanges, `pageSize ${pageSize}`).toBe(2600);
      expect(most(calls, 'limit'), `pageSize ${pageSize}`).toBe(pageSize);
      expect(most(calls, 'records'), `pageSize ${pageSize}`).toBe(pageSize);
    }
  });

  it('stay at what an older server takes: 1,000 as its config says, 1,000 without a config', async () => {
    await written('alice', 2300);
    for (const maxPullLimit of [1000, null]) {
      const name = maxPullLimit === null ? 'has no /v1/config' : `says ${maxPullLimit}`;
      const calls: PullCall[] = [];
      const reader = await h.device(`reader-${maxPullLimit ?? 'none'}`, {
        wrapApi: recording(calls, { maxPullLimit }),
      });

      const result = await reader.system.syncManager.pullChanges();

      expect(result.totalChanges, name).toBe(2300);
      expect((await reader.todos()).length, name).toBe(2300);
      expect(
        calls.map((call) => call.limit).every((limit) => limit === 1000),
        name,
      ).toBe(true);
      expect(
        calls.reduce((sum, call) => sum + call.records, 0),
        name,
      ).toBe(2300);
    }
  });

  it('refuse a page size no server takes, before any request', async () => {
    const calls: PullCall[] = [];
    const device = await h.device('too-big', { wrapApi: recording(calls), config: { pageSize: 2001 } });

    await expect(device.system.syncManager.pullChanges()).rejects.toThrow(/pageSize must be an integer from 1 to 2000/);
    expect(calls).toEqual([]);
  });
});
