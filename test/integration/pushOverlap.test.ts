/**
 * The pipelined push overlaps the device's work with the server's: request n+1 must be on the
 * wire while batch n is settled locally. The store's SQLite driver is synchronous, so a settle
 * holds the event loop for its whole transaction; a request merely started before it would only
 * leave after it, and the server would wait. A real server on 127.0.0.1 and a real device; a
 * TCP relay in a worker thread (test/support/requestRelay.ts) counts the push requests that reach the
 * wire, and the settle of the first batch blocks the device's thread until a second one has
 * (or a deadline passes), with `Atomics.wait`, as a long synchronous transaction would.
 */
import { type ChangeTracker, HttpRemoteAPI, PushSyncStrategy } from '@ferry/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness.js';
import { type RequestRelay, startRequestRelay } from '../support/requestRelay.js';

/** How long the settle waits for the next request before concluding it never left. */
const WAIT_MS = 3000;

let h: Harness;
let relay: RequestRelay;
beforeEach(async () => {
  h = await startHarness();
  relay = await startRequestRelay(h.url, 'POST /v1/push');
});
afterEach(async () => {
  await relay.close();
  await h.close();
});

describe('pipelined push', () => {
  it('puts batch n+1 on the wire before batch n is settled', async () => {
    const device = await h.device('a');
    const tracker: ChangeTracker = device.system.changeTracker;
    const store = device.system.localStore;
    await store.write(async (tx) => {
      for (let i = 0; i < 3; i++) await tracker.trackChangeIn(tx, 'todos', `t${i}`, 'CREATE', { title: `todo ${i}` });
    });
    // A token at hand, as an app caches it (signing one per request would itself take turns of the loop).
    const token = await h.token('alice');
    const api = new HttpRemoteAPI({ baseUrl: relay.url, getToken: () => token, timeoutMs: 10_000 });
    const push = new PushSyncStrategy(api, tracker, { batchSize: 1 });

    // The first write of the push is the settle of batch 1 (reads use store.read).
    const waits: string[] = [];
    const write = store.write.bind(store);
    store.write = (fn) => {
      // Blocks this thread as a long synchronous transaction would; 1 = only push 1 seen so far.
      if (waits.length === 0) waits.push(Atomics.wait(relay.seen, 0, 1, WAIT_MS));
      return write(fn);
    };

    const result = await push.pushChanges();

    expect(result.successful).toBe(3);
    expect(Atomics.load(relay.seen, 0)).toBe(3);
    // 'ok' or 'not-equal': push 2 reached the relay while batch 1 was being settled.
    expect(waits).toHaveLength(1);
    expect(waits[0]).not.toBe('timed-out');
    expect(await store.countPending()).toBe(0);
    expect((await h.server.storage.pull('alice', { cursor: 0, limit: 10 })).items).toHaveLength(3);
  });
});
