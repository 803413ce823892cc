/**
 * One scheduler: every way into a sync is a request to one loop, at most one cycle runs, and
 * requests made during a cycle coalesce into one follow-up that is never lost. A real server
 * on 127.0.0.1; the device's transport is wrapped only to hold the first push at a gate and to
 * count requests in flight.
 */
import type { RemoteAPI } from '@ferry/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Device, type Harness, startHarness, withOverrides } from '../support/harness.js';

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

interface Probe {
  /** Push and pull requests, in the order they started. */
  log: string[];
  /** Most push/pull requests ever in flight at once. */
  maxInFlight: number;
  /** Resolves when the first held request reached the gate. */
  held: Promise<void>;
  /** Lets it go on to the server. */
  release(): void;
}

/** A device whose first push (or pull) waits at a gate, and whose push/pull requests are counted. */
async function gatedDevice(name: string, hold: 'push' | 'pull' = 'push'): Promise<{ device: Device; probe: Probe }> {
  let release!: () => void;
  let reached!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const probe: Probe = {
    log: [],
    maxInFlight: 0,
    held: new Promise<void>((resolve) => (reached = resolve)),
    release: () => release(),
  };
  let inFlight = 0;
  let first = true;
  const counted =
    <A extends unknown[], R>(label: string, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      probe.log.push(label);
      probe.maxInFlight = Math.max(probe.maxInFlight, ++inFlight);
      try {
        if (label === hold && first) {
          first = false;
          reached();
          await gate;
        }
        return await call(...args);
      } finally {
        inFlight--;
      }
    };
  const device = await h.device(name, {
    wrapApi: (api: RemoteAPI) =>
      withOverrides(api, {
        push: counted('push', (request, options) => api.push(request, options)),
        pull: counted('pull', (params, options) => api.pull(params, options)),
      }),
  });
  return { device, probe };
}

async function serverTodoIds(): Promise<string[]> {
  const page = await h.server.storage.pull('alice', { cursor: 0, limit: 100, types: ['todos'] });
  return page.items.map((record) => record.entityId).sort();
}

/**
 * Writes t1, starts a forced sync, and writes t2 while that sync is held in its pull (its push
 * is over): only a follow-up cycle can carry t2.
 */
async function writeDuringForcedPull() {
  const { device, probe } = await gatedDevice('a', 'pull');
  const manager = device.system.syncManager;
  const todos = device.system.collection('todos');
  await todos.insert({ id: 't1', title: 'one' });
  const forced = manager.performFullSync();
  await probe.held;
  await todos.insert({ id: 't2', title: 'two' });
  return { manager, probe, forced };
}

describe('one sync loop', () => {
  it('runs two concurrent performFullSync calls one after the other, never in parallel', async () => {
    const { device, probe } = await gatedDevice('a');
    const manager = device.system.syncManager;
    await device.system.collection('todos').insert({ id: 't1', title: 'one' });

    const first = manager.performFullSync();
    const second = manager.performFullSync();
    await probe.held;
    probe.release();
    const [one, two] = await Promise.all([first, second]);

    expect(probe.maxInFlight).toBe(1);
    expect(probe.log).toEqual(['push', 'pull', 'pull']);
    expect(one.push.successful).toBe(1);
    expect(two.push.totalChanges).toBe(0);
    expect(await serverTodoIds()).toEqual(['t1']);
  });

  it('does not lose a triggerSync made during a forced sync: the write behind it goes out', async () => {
    const { manager, probe, forced } = await writeDuringForcedPull();
    const triggered = manager.triggerSync();
    probe.release();
    await Promise.all([forced, triggered]);

    expect(await serverTodoIds()).toEqual(['t1', 't2']);
    expect(manager.getState().pendingChanges).toBe(0);
    expect(probe.maxInFlight).toBe(1);
  });

  it('queues pushChanges and pullChanges behind the running sync instead of running them alongside', async () => {
    const { manager, probe, forced } = await writeDuringForcedPull();
    const pushed = manager.pushChanges();
    const pulled = manager.pullChanges();
    probe.release();
    const [, push, pull] = await Promise.all([forced, pushed, pulled]);

    expect(probe.maxInFlight).toBe(1);
    // The follow-up does the union of what was asked: one push and one pull.
    expect(probe.log).toEqual(['push', 'pull', 'push', 'pull']);
    expect(push.successful).toBe(1);
    expect(pull.cursor).toBe(2);
    expect(await serverTodoIds()).toEqual(['t1', 't2']);
  });

  it('coalesces many requests during a cycle into exactly one follow-up', async () => {
    const { device, probe } = await gatedDevice('a');
    const manager = device.system.syncManager;
    await device.system.collection('todos').insert({ id: 't1', title: 'one' });

    const running = manager.triggerSync();
    await probe.held;
    const requests = [manager.triggerSync(), manager.performFullSync(), manager.triggerSync(), manager.resume()];
    probe.release();
    await Promise.all([running, ...requests]);

    expect(probe.log).toEqual(['push', 'pull', 'pull']);
    expect(probe.maxInFlight).toBe(1);
  });

  it('gives a stopped manager no cycle: a forced sync rejects with a clear error', async () => {
    const { device } = await gatedDevice('a');
    const manager = device.system.syncManager;
    await manager.stop();

    await expect(manager.performFullSync()).rejects.toMatchObject({ name: 'SyncError', message: /stopped/ });
    await expect(manager.triggerSync()).resolves.toBeUndefined();
  });
});
