/**
 * `errorHandler.getFailedOperations()` and `state.syncErrors` report what the engine really
 * failed at, with real retry counts: the engine retries on its own schedule (never through
 * `executeWithRetry`), so it lists its failures itself. Real server on 127.0.0.1, real SQLite
 * devices, a real proxy for the failing requests.
 */
import type { PushResponse, RemoteAPI } from '@ferry/client';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../support/faultProxy.js';
import { type Harness, startHarness } from '../support/harness.js';

let h: Harness;
let proxy: FaultProxy | undefined;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await h.close();
});

it('a failing sync is listed as `sync` with the failed cycles before it, and cleared once one goes through', async () => {
  proxy = await startFaultProxy(h.url);
  const device = await h.device('phone', { baseUrl: proxy.url, config: { autoStart: false } });
  await device.system.collection('todos').insert({ id: 't1', title: 'waits for the server' });
  proxy.inject('POST /v1/push', { kind: 'status', status: 503 }, { kind: 'status', status: 503 });

  await expect(device.system.forceSync()).rejects.toMatchObject({ code: 'SERVER_ERROR' });
  await expect(device.system.forceSync()).rejects.toMatchObject({ code: 'SERVER_ERROR' });

  const failed = device.system.errorHandler.getFailedOperations();
  expect(failed.map(({ operationId, retryCount, error }) => [operationId, retryCount, error.code])).toEqual([
    ['sync', 1, 'SERVER_ERROR'],
  ]);
  expect(device.system.syncManager.getState().syncErrors.map((record) => record.retryCount)).toEqual([0, 1]);

  await device.system.forceSync();
  expect(device.system.errorHandler.getFailedOperations()).toEqual([]);
  expect(await h.server.storage.getRecord('alice', 'todos', 't1')).not.toBeNull();
});

it('a change the server keeps refusing for now is listed under its id, its retry count growing each sync', async () => {
  // The server's answer for one change is rewritten to a retryable rejection: a fault at the
  // transport boundary; every other change travels to the real server.
  const refuseFlaky = (api: RemoteAPI): RemoteAPI => {
    const push: RemoteAPI['push'] = async (request, options) => {
      const others = request.changes.filter((change) => change.entityId !== 'flaky');
      const response: PushResponse =
        others.length > 0
          ? await api.push({ ...request, changes: others }, options)
          : { results: [], cursor: 0, serverTime: Date.now() };
      const real = [...response.results];
      return {
        ...response,
        results: request.changes.map((change) =>
          change.entityId === 'flaky'
            ? {
                changeId: change.id,
                status: 'rejected' as const,
                error: { code: 'INTERNAL', message: 'try again later', retryable: true },
              }
            : real.shift()!,
        ),
      };
    };
    return new Proxy(api, {
      get: (target, key) => {
        if (key === 'push') return push;
        const value = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
  const device = await h.device('phone', { wrapApi: refuseFlaky, config: { autoStart: false } });
  await device.system.collection('todos').insert({ id: 'flaky', title: 'refused for now' });
  await device.system.collection('todos').insert({ id: 'fine', title: 'goes through' });
  const [flaky] = await device.system.changeTracker.getPendingChanges();

  for (let i = 0; i < 3; i++) await device.system.forceSync();

  const failed = device.system.errorHandler.getFailedOperations();
  expect(failed.map(({ operationId, retryCount, error }) => [operationId, retryCount, error.retryable])).toEqual([
    [flaky?.id, 2, true],
  ]);
  expect(device.system.syncManager.getState().syncErrors).toMatchObject([{ changeId: flaky?.id, retryCount: 2 }]);
  expect(await h.server.storage.getRecord('alice', 'todos', 'fine')).not.toBeNull();
  expect(await device.system.changeTracker.getPendingChanges()).toHaveLength(1);
});
