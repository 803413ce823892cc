import { type RemoteAPI, SyncError } from '@ferry/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness.js';

/**
 * The request shape of a pull: one `POST /v1/pull` carries the private space's cursor with the
 * shared spaces' checkpoint, so an idle sync is one request whatever the number of spaces. A
 * real server on 127.0.0.1; the transport is wrapped only to count (and name) its calls.
 */
let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

type Todo = { title: string; completed: boolean };

/** A transport that logs every call as `method` (+ `private=N` / `cursor=N`), then makes it. */
function counting(calls: string[], override: Partial<RemoteAPI> = {}) {
  return (api: RemoteAPI): RemoteAPI =>
    new Proxy(api, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (typeof value !== 'function') return value;
        const call = (override as Record<string | symbol, unknown>)[property] ?? value.bind(target);
        return (...args: unknown[]) => {
          const first = args[0] as { private?: number; cursor?: number; snapshot?: boolean } | undefined;
          if (property === 'pullSpaces') calls.push(`pullSpaces private=${first?.private ?? '-'}`);
          else if (property === 'pull') calls.push(`pull cursor=${first?.cursor}${first?.snapshot ? ' snapshot' : ''}`);
          else calls.push(String(property));
          return (call as (...a: unknown[]) => unknown)(...args);
        };
      },
    });
}

async function twoDevices(calls: string[], override: Partial<RemoteAPI> = {}, pageSize?: number) {
  const phone = await h.device('alice-phone', { user: 'alice' });
  const laptop = await h.device('alice-laptop', {
    user: 'alice',
    wrapApi: counting(calls, override),
    ...(pageSize ? { config: { pageSize } } : {}),
  });
  return { phone, laptop, todos: (device: typeof phone) => device.system.collection<Todo>('todos') };
}

describe('one request per idle sync', () => {
  it('an idle sync is one POST /v1/pull carrying the private cursor and every space', async () => {
    const calls: string[] = [];
    const { phone, laptop, todos } = await twoDevices(calls);
    await todos(phone).insert({ title: 'private', completed: false });
    const { id: space } = await phone.system.spaces.create({ name: 'Shared' });
    await todos(phone).insert({ title: 'shared', completed: false }, { space });
    await phone.system.forceSync();
    await laptop.system.forceSync();
    expect((await todos(laptop).find({ orderBy: 'title' })).map((todo) => todo.title)).toEqual(['private', 'shared']);

    calls.length = 0;
    const result = await laptop.system.forceSync();
    expect(calls).toEqual([`pullSpaces private=${result.pull.cursor}`]);
    expect(result.pull.cursor).toBeGreaterThan(0);
  });

  it("a private change arrives in that same one request, with the spaces' pages", async () => {
    const calls: string[] = [];
    const { phone, laptop, todos } = await twoDevices(calls);
    const { id: space } = await phone.system.spaces.create({ name: 'Shared' });
    await phone.system.forceSync();
    await laptop.system.forceSync();
    await todos(phone).insert({ title: 'new private', completed: false });
    await todos(phone).insert({ title: 'new shared', completed: false }, { space });
    await phone.system.forceSync();

    calls.length = 0;
    const result = await laptop.system.forceSync();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(/^pullSpaces private=\d+$/);
    expect(result.pull.totalChanges).toBe(2);
    expect((await todos(laptop).find({ space: null })).map((todo) => todo.title)).toEqual(['new private']);
    expect((await todos(laptop).find({ space })).map((todo) => todo.title)).toEqual(['new shared']);
  });

  it('a private pull longer than a page goes on with GET pages from where the first ended', async () => {
    const calls: string[] = [];
    const { phone, laptop, todos } = await twoDevices(calls, {}, 5);
    for (let i = 0; i < 12; i++)
      await todos(phone).insert({ title: `t${String(i).padStart(2, '0')}`, completed: false });
    await phone.system.forceSync();

    await laptop.system.forceSync();
    expect(calls[0]).toBe('getConfig');
    expect(calls[1]).toBe('pullSpaces private=0');
    expect(calls.filter((call) => call.startsWith('pull '))).toEqual(['pull cursor=5', 'pull cursor=10']);
    expect((await todos(laptop).find({ orderBy: 'title' })).map((todo) => todo.title)).toEqual(
      Array.from({ length: 12 }, (_, i) => `t${String(i).padStart(2, '0')}`),
    );
  });

  it('a cursor older than the compaction horizon resets the private space from a snapshot', async () => {
    const calls: string[] = [];
    const { phone, laptop, todos } = await twoDevices(calls);
    const { id: keep } = await todos(phone).insert({ title: 'keep', completed: false });
    const { id: gone } = await todos(phone).insert({ title: 'gone', completed: false });
    await phone.system.forceSync();
    await laptop.system.forceSync();
    await todos(phone).delete(gone);
    await todos(phone).update(keep, { title: 'kept' });
    await phone.system.forceSync();
    await h.server.storage.compact({ tombstonesBefore: Date.now() + 1 });

    calls.length = 0;
    await laptop.system.forceSync();
    expect(calls[0]).toMatch(/^pullSpaces private=2$/);
    expect(calls).toContain('pull cursor=0 snapshot');
    expect((await todos(laptop).find()).map((todo) => todo.title)).toEqual(['kept']);
  });

  it('a server without POST /v1/pull (before spaces) still syncs the private space by GET', async () => {
    const calls: string[] = [];
    const notFound = async () => {
      throw new SyncError('SERVER_ERROR', 'Route POST /v1/pull not found', { status: 404, serverCode: 'NOT_FOUND' });
    };
    const { phone, laptop, todos } = await twoDevices(calls, { pullSpaces: notFound });
    await todos(phone).insert({ title: 'private', completed: false });
    await phone.system.forceSync();

    await laptop.system.forceSync();
    expect(calls.filter((call) => call !== 'getConfig')).toEqual(['pullSpaces private=0', 'pull cursor=0']);
    expect((await todos(laptop).find()).map((todo) => todo.title)).toEqual(['private']);
  });
});
