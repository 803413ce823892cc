/**
 * Child entry: live propagation A → B. Devices are full sync systems, each on its own SQLite
 * file, holding the live channel open.
 *
 *   load <url> <token> <count>   `count` devices that pull on every poke, until told to stop
 *   probe <url> <token> <rounds> devices A and B: A inserts a record and pushes it; the server
 *                                pokes everyone; B pulls. A round runs from A's insert call to
 *                                the record committing in B's store.
 *
 * The load devices live in another process than A and B: on phones every device has its own
 * CPU, and one Node event loop running 100 devices' SQLite commits would measure itself.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createSyncSystem, type SyncSystem } from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import WebSocket from 'ws';
import { finish, onStop, report } from '../proc.js';
import { scratchDir } from './measure.js';

const CONNECT_TIMEOUT_MS = 30_000;
const ROUND_TIMEOUT_MS = 10_000;
/** First rounds warm the JIT, statement caches and connections; they are not counted. */
const WARMUP_ROUNDS = 3;

/** Resolves when `system` holds `id`, timed from `start`; rejects after the round timeout. */
function arrival(system: SyncSystem, id: string, start: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`${system.clientId} did not receive ${id} within ${ROUND_TIMEOUT_MS} ms`));
    }, ROUND_TIMEOUT_MS);
    const unsubscribe = system.localStore.subscribe((event) => {
      if (!event.entityTypes.has('todos')) return;
      void system.localStore.get('todos', id).then((record) => {
        if (!record) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(performance.now() - start);
      });
    });
  });
}

async function waitOpen(systems: readonly SyncSystem[]): Promise<void> {
  const deadline = Date.now() + CONNECT_TIMEOUT_MS;
  while (systems.some((system) => system.liveConnection?.status !== 'open')) {
    if (Date.now() > deadline) throw new Error('Live channels did not open in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round((sorted[Math.max(0, index)] ?? 0) * 10) / 10;
}

function open(dir: string, url: string, token: string, name: string): Promise<SyncSystem> {
  return createSyncSystem({
    apiBaseUrl: url,
    getToken: () => token,
    timeoutMs: 30_000,
    driver: createBetterSqliteDriver(join(dir, `${name}.db`)),
    clientId: name,
    syncInterval: 0,
    writeDebounceMs: -1,
    live: { webSocket: (address) => new WebSocket(address) },
  });
}

async function closeAll(systems: readonly SyncSystem[], dir: string): Promise<void> {
  for (const system of systems) await system.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}

async function load(url: string, token: string, count: number): Promise<void> {
  const dir = scratchDir('live-load');
  const systems: SyncSystem[] = [];
  onStop(() => closeAll(systems, dir));
  for (let index = 0; index < count; index++) systems.push(await open(dir, url, token, `load-${index}`));
  await waitOpen(systems);
  report({ type: 'ready', url });
}

async function probe(url: string, token: string, rounds: number) {
  const dir = scratchDir('live-probe');
  const systems = [await open(dir, url, token, 'device-a'), await open(dir, url, token, 'device-b')];
  try {
    await waitOpen(systems);
    const [writer, reader] = systems as [SyncSystem, SyncSystem];
    const latencies: number[] = [];
    for (let round = -WARMUP_ROUNDS; round < rounds; round++) {
      const id = `live-${round + WARMUP_ROUNDS}`;
      const start = performance.now();
      const arrived = arrival(reader, id, start);
      await writer.collection('todos').insert({ id, title: `live round ${round}`, completed: false, order: round });
      const pushed = await writer.syncManager.pushChanges();
      if (pushed.error) throw pushed.error;
      const latency = await arrived;
      if (round >= 0) latencies.push(latency);
    }
    latencies.sort((a, b) => a - b);
    return { rounds: latencies.length, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
  } finally {
    await closeAll(systems, dir);
  }
}

const [mode, url, token, count] = process.argv.slice(2);
if (!url || !token || !count) throw new Error('Usage: liveClient.ts load|probe <url> <token> <count>');
if (mode === 'load') await load(url, token, Number(count));
else finish(await probe(url, token, Number(count)));
