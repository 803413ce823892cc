import { NetworkError, type RemoteAPI } from '@ferry/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness, syncAll, withOverrides } from '../support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

describe('devices converge over a real server', () => {
  it('three devices write offline, sync, and hold identical data', async () => {
    const devices = await Promise.all(['dev-a', 'dev-b', 'dev-c'].map((name) => h.device(name)));
    for (const [i, device] of devices.entries()) {
      const todos = device.system.collection('todos');
      for (let n = 0; n < 5; n++)
        await todos.insert({ id: `${device.name}-${n}`, title: `todo ${n}`, order: i * 10 + n });
      await todos.update(`${device.name}-0`, { completed: true });
    }
    await syncAll(devices);
    const expected = await devices[0]!.todos();
    expect(expected).toHaveLength(15);
    expect(expected.find((t) => t.id === 'dev-b-0')).toMatchObject({ title: 'todo 0', completed: true, order: 10 });
    for (const device of devices) expect(await device.todos()).toEqual(expected);
    for (const device of devices) expect(await device.system.localStore.countPending()).toBe(0);
  });

  it('propagates deletes as tombstones', async () => {
    const [a, b] = await Promise.all([h.device('dev-a'), h.device('dev-b')]);
    await a.system.collection('todos').insert({ id: 't1', title: 'keep' });
    await a.system.collection('todos').insert({ id: 't2', title: 'drop' });
    await syncAll([a, b]);
    expect((await b.todos()).map((t) => t.id)).toEqual(['t1', 't2']);
    await b.system.collection('todos').delete('t2');
    await syncAll([a, b]);
    expect((await a.todos()).map((t) => t.id)).toEqual(['t1']);
    expect((await a.system.localStore.getEntity('todos', 't2'))?.deleted).toBe(true);
  });

  it('applies a push once when its response was lost and it is sent again', async () => {
    let dropNext = true;
    const wrapApi = (api: RemoteAPI): RemoteAPI =>
      withOverrides(api, {
        push: async (...args) => {
          const response = await api.push(...args);
          if (dropNext) {
            dropNext = false;
            throw new NetworkError('connection reset after the server committed');
          }
          return response;
        },
      });
    const a = await h.device('dev-a', { wrapApi });
    await a.system.collection('todos').insert({ id: 't1', title: 'once' });
    await a.system.collection('todos').update('t1', { completed: true });
    await expect(a.system.forceSync()).rejects.toBeInstanceOf(NetworkError);
    expect(await a.system.localStore.countPending()).toBe(2);
    await a.system.forceSync();
    expect(await a.system.localStore.countPending()).toBe(0);
    const log = await a.system.remoteAPI.getChangesSince(0);
    expect(log.map((c) => c.entityId)).toEqual(['t1', 't1']);
    expect(new Set(log.map((c) => c.id)).size).toBe(2);
  });

  it('resumes after an app restart with a non-empty outbox and loses nothing', async () => {
    let a = await h.device('dev-a');
    for (let n = 0; n < 7; n++) await a.system.collection('todos').insert({ id: `t${n}`, title: `n${n}` });
    a = await a.restart();
    expect(await a.system.localStore.countPending()).toBe(7);
    const b = await h.device('dev-b');
    await syncAll([a, b]);
    expect((await b.todos()).map((t) => t.title)).toEqual(['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6']);
  });

  it('survives a server restart between writes', async () => {
    const a = await h.device('dev-a');
    const b = await h.device('dev-b');
    await a.system.collection('todos').insert({ id: 't1', title: 'before' });
    await a.system.forceSync();
    await h.restartServer();
    await a.system.collection('todos').insert({ id: 't2', title: 'after' });
    // A kept-alive socket to the old process may fail once: a retryable network error.
    await a.system.forceSync().catch((error) => {
      expect(error).toBeInstanceOf(NetworkError);
      expect(error.retryable).toBe(true);
    });
    await syncAll([a, b]);
    expect((await b.todos()).map((t) => t.title)).toEqual(['before', 'after']);
  });

  it('pulls a dataset that spans more than three pages, each record once', async () => {
    const a = await h.device('dev-a');
    for (let n = 0; n < 23; n++)
      await a.system.collection('todos').insert({ id: `t${String(n).padStart(2, '0')}`, order: n });
    await a.system.forceSync();
    const b = await h.device('dev-b', { config: { pageSize: 5 } });
    const { pull } = await b.system.forceSync();
    expect(pull.pages).toBeGreaterThan(3);
    expect(pull.totalChanges).toBe(23);
    expect((await b.todos()).map((t) => t.order)).toEqual([...Array(23).keys()]);
  });

  it('keeps each user to their own data', async () => {
    const alice = await h.device('dev-alice', { user: 'alice' });
    const bob = await h.device('dev-bob', { user: 'bob' });
    await alice.system.collection('todos').insert({ id: 'shared-id', title: 'alice secret' });
    await bob.system.collection('todos').insert({ id: 'shared-id', title: 'bob own' });
    await syncAll([alice, bob]);
    expect(await alice.todos()).toEqual([{ id: 'shared-id', title: 'alice secret' }]);
    expect(await bob.todos()).toEqual([{ id: 'shared-id', title: 'bob own' }]);
  });
});
