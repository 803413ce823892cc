/**
 * A TCP relay on 127.0.0.1 in a worker thread (its own event loop, so it runs while the test's
 * thread is blocked): it forwards bytes both ways and counts, in shared memory, the requests
 * whose request line starts with `requestLine` (e.g. `POST /v1/push`) that reach the wire from
 * the device. A test blocks its thread with `Atomics.wait(relay.seen, 0, n, ms)`, as a long
 * synchronous transaction would, to learn whether a request left before the block.
 */
import { Worker } from 'node:worker_threads';

// Plain JavaScript for the worker.
const RELAY = `
const net = require('node:net');
const { parentPort, workerData } = require('node:worker_threads');
const seen = new Int32Array(workerData.shared);
const server = net.createServer((device) => {
  const upstream = net.connect(workerData.port, '127.0.0.1');
  let tail = '';
  device.on('data', (chunk) => {
    const text = tail + chunk.toString('latin1');
    const found = text.split(workerData.requestLine).length - 1;
    if (found > 0) { Atomics.add(seen, 0, found); Atomics.notify(seen, 0); }
    tail = text.slice(-(workerData.requestLine.length - 1));
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

/** A running relay: where devices connect, the shared count, and how to stop it. */
export interface RequestRelay {
  url: string;
  /** Slot 0: requests seen so far. */
  seen: Int32Array;
  close(): Promise<void>;
}

/** Starts a relay in front of the server at `target` (an http://127.0.0.1 URL). */
export async function startRequestRelay(target: string, requestLine: string): Promise<RequestRelay> {
  const shared = new SharedArrayBuffer(4);
  const worker = new Worker(RELAY, {
    eval: true,
    workerData: { shared, port: Number(new URL(target).port), requestLine },
  });
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
