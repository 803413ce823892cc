/**
 * The pipelined push overlaps the device's work with the server's: request n+1 must be on the
 * wire while batch n is settled locally. The store's SQLite driver is synchronous, so a settle
 * holds the event loop for its whole transaction; a request merely started before it would only
 * leave after it, and the server would wait. A real server on 127.0.0.1 and a real device; a
 * TCP relay in a worker thread (its own event loop) counts the push requests that reach the
 * wire, and the settle of the first batch blocks the device's thread until a second one has
 * (or a deadline passes), with `Atomics.wait`, as a long synchronous transaction would.
 */
import { Worker } from 'node:worker_threads';
import { type ChangeTracker, HttpRemoteAPI, PushSyncStrategy } from '@ferry/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness.js';

/** How long the settle waits for the next request before concluding it never left. */
const WAIT_MS = 3000;

// The relay: plain JavaScript for the worker. It forwards bytes both ways and counts the
// request lines of pushes it sees from the device in shared memory (slot 0), waking waiters.
const RELAY = `
const net = require('node:net');
const { parentPort, workerData } = require('node:worker_threads');
const seen = new Int32Array(workerData.shared);
const server = net.createServer((device) => {
  const upstream = net.connect(workerData.port, '127.0.0.1');
  let tail = '';
  device.on('data', (chunk) => {
    const text = tail + chunk.toString('latin1');
    const found = text.split('POST /v1/push').length - 1;
    if (found > 0) { Atomics.add(seen, 0, found); Atomics.notify(seen, 0); }
    tail = text.slice(-16);
    upstream.write(chunk);
  });
  upstream.on('data', (chunk) => device.write(chunk));
  device.on('error', () => upstream.destroy());
  upstream.on('error', () => device.destroy());
  device.on('close', () => upstream.end());
  upstream.on('close', () => device.end());
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
parentPort.on('message', () => process.exit(0));
`;

interface Relay {
  url: string;
  seen: Int32Array;
  close(): Promise<void>;
}

async function startRelay(target: string): Promise<Relay> {
  const shared = new SharedArrayBuffer(4);
  const worker = new Worker(RELAY, { eval: true, workerData: { shared, port: Number(new URL(target).port) } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    seen: new Int32Array(shared),
    close: async () => {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage('close');
      await exited;
    },
  };
}

let h: Harness;
let relay: Relay;
beforeEach(async () => {
  h = await startHarness();
  relay = await startRelay(h.url);
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
