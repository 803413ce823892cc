/**
 * Server arbitration per entity type over a real server: a stale-base push of a type with
 * a strategy is settled by the server itself, with the same rules as the device resolver,
 * and devices learn the strategies from `GET /v1/config` on connect, so every replica ends
 * the same. Edits are stamped on a virtual clock: a's edit is the earlier, b's the later,
 * and a pushes first, so b's push is the stale one.
 */
import { HttpRemoteAPI, NetworkError } from '@ferry/client';
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from '@ferry/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { BASE, type ConflictWorld, editAt, startWorld } from '../support/conflictDevices.js';
import { syncAll as settle } from '../support/harness.js';

let world: ConflictWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function scenario(strategy: string, edits: { a: Record<string, unknown>; b: Record<string, unknown> }) {
  world = await startWorld({ todos: strategy });
  const a = await world.device('dev-a');
  const b = await world.device('dev-b');
  await editAt(a, BASE, 't1', 'CREATE', { title: 'original', completed: false });
  await settle([a, b]);
  await editAt(a, BASE + 10, 't1', 'UPDATE', edits.a as never);
  await editAt(b, BASE + 20, 't1', 'UPDATE', edits.b as never);
  await a.system.forceSync();
  const bPush = (await b.system.forceSync()).push;
  await settle([a, b]);
  const server = (await a.system.remoteAPI.getAll('todos')).map((r) => ({ id: r.entityId, ...r.data }));
  return { a, b, bPush, server, aTodos: await a.todos(), bTodos: await b.todos() };
}

describe('server arbitration of a same-field conflict', () => {
  it.each([
    ['last-write-wins', 'from b', 'applied'],
    ['first-write-wins', 'from a', 'applied'],
    ['server-wins', 'from a', 'conflict'],
    ['client-wins', 'from b', 'applied'],
    ['merge', 'from b', 'applied'],
  ])('%s: every replica ends with "%s" (the stale push is %s)', async (strategy, title, status) => {
    const run = await scenario(strategy, { a: { title: 'from a' }, b: { title: 'from b' } });
    const expected = [{ id: 't1', title, completed: false }];
    expect(run.server).toEqual(expected);
    expect(run.aTodos).toEqual(expected);
    expect(run.bTodos).toEqual(expected);
    expect(run.bPush.results.map((r) => r.status)).toEqual([status]);
    // Both devices adopted the server's strategy on connect.
    expect(run.a.system.conflictResolver.getStrategy('todos')).toBe(strategy);
    expect(run.b.system.conflictResolver.getStrategy('todos')).toBe(strategy);
  });
});

describe('server arbitration with merge', () => {
  it('keeps both devices’ edits of different fields', async () => {
    const run = await scenario('merge', { a: { title: 'from a' }, b: { completed: true } });
    const expected = [{ id: 't1', title: 'from a', completed: true }];
    expect(run.server).toEqual(expected);
    expect(run.aTodos).toEqual(expected);
    expect(run.bTodos).toEqual(expected);
  });

  it('lets a later delete win and an earlier one lose to a later edit', async () => {
    world = await startWorld({ todos: 'merge' });
    const a = await world.device('dev-a');
    const b = await world.device('dev-b');
    await editAt(a, BASE, 't1', 'CREATE', { title: 'x', completed: false });
    await editAt(a, BASE, 't2', 'CREATE', { title: 'y', completed: false });
    await settle([a, b]);
    await editAt(a, BASE + 10, 't1', 'DELETE', null);
    await editAt(b, BASE + 20, 't1', 'UPDATE', { title: 'edited after the delete' });
    await editAt(a, BASE + 30, 't2', 'DELETE', null);
    await editAt(b, BASE + 20, 't2', 'UPDATE', { title: 'edited before the delete' });
    await settle([a, b]);
    const expected = [{ id: 't1', title: 'edited after the delete', completed: false }];
    expect(await a.todos()).toEqual(expected);
    expect(await b.todos()).toEqual(expected);
  });
});

describe('merge resolved on the devices (the server only reports)', () => {
  it.each([
    [{ title: 'from a' }, { completed: true }, { title: 'from a', completed: true }],
    [{ title: 'from a' }, { title: 'from b' }, { title: 'from b', completed: false }],
  ])('a writes %j, b later writes %j: every replica ends with %j', async (aEdit, bEdit, data) => {
    world = await startWorld();
    const a = await world.device('dev-a', { conflictStrategy: 'merge' });
    const b = await world.device('dev-b', { conflictStrategy: 'merge' });
    await editAt(a, BASE, 't1', 'CREATE', { title: 'original', completed: false });
    await settle([a, b]);
    await editAt(a, BASE + 10, 't1', 'UPDATE', aEdit);
    await editAt(b, BASE + 20, 't1', 'UPDATE', bEdit);
    await a.system.forceSync();
    const bSync = await b.system.forceSync();
    expect(bSync.push.conflicts).toBe(1);
    await settle([a, b]);
    const expected = [{ id: 't1', ...data }];
    expect(await a.todos()).toEqual(expected);
    expect(await b.todos()).toEqual(expected);
    const server = (await a.system.remoteAPI.getAll('todos')).map((r) => ({ id: r.entityId, ...r.data }));
    expect(server).toEqual(expected);
  });
});

describe('GET /v1/config and the device', () => {
  it('serves the strategies; a type the app set itself keeps the app’s choice', async () => {
    world = await startWorld({ todos: 'first-write-wins', notes: 'merge' });
    const response = await fetch(`${world.url}/v1/config`, {
      headers: { [PROTOCOL_HEADER]: String(PROTOCOL_VERSION) },
    });
    expect((await response.json()).conflictStrategies).toEqual({ todos: 'first-write-wins', notes: 'merge' });

    const device = await world.device('dev-c', { entityStrategies: { todos: 'client-wins' } });
    expect(device.system.conflictResolver.getStrategy('notes')).toBe('last-write-wins');
    await device.system.forceSync();
    expect(device.system.conflictResolver.getStrategy('notes')).toBe('merge');
    expect(device.system.conflictResolver.getStrategy('todos')).toBe('client-wins');
  });

  it('a failed config fetch does not fail the sync, and is tried again on the next one', async () => {
    const started = await startWorld({ notes: 'merge' });
    world = started;
    const http = new HttpRemoteAPI({ baseUrl: started.url, getToken: () => started.token, timeoutMs: 5000 });
    let failures = 2; // the fetch before the push, and the one before the pull
    const flaky = Object.assign(Object.create(http), {
      getConfig: async (options?: { signal?: AbortSignal }) => {
        if (failures-- > 0) throw new NetworkError('offline for a moment');
        return http.getConfig(options);
      },
      push: http.push.bind(http),
      pull: http.pull.bind(http),
      getAll: http.getAll.bind(http),
    });
    const device = await started.device('dev-d', { remoteAPI: flaky });
    await device.system.changeTracker.trackChange('notes', 'n1', 'CREATE', { text: 'hello' });
    const first = await device.system.forceSync();
    expect(first.push.successful).toBe(1);
    expect(device.system.conflictResolver.getStrategy('notes')).toBe('last-write-wins');
    await device.system.forceSync();
    expect(device.system.conflictResolver.getStrategy('notes')).toBe('merge');
  });

  it('refuses a strategy the server cannot apply, or an undeclared type, at start', async () => {
    await expect(startWorld({ todos: 'manual' })).rejects.toThrow(
      /"manual" for "todos" is not one the server can apply/,
    );
    await expect(startWorld({ invoices: 'merge' })).rejects.toThrow(/"invoices", which the schema does not declare/);
  });
});
