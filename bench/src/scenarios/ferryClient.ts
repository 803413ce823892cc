/**
 * Child entry: Ferry's client engine end to end against a Ferry server child.
 *
 *   sync <url> <token> <count> [serverPid]  queue `count` changes offline, push them all;
 *                               then pull them all into a fresh device
 *   pull <url> <token> <count> [serverPid]  pull `count` records into a fresh device, sampling RSS
 *
 * Each phase reports the client's CPU time over it and, given the server's pid (Linux), the
 * server's.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createSyncSystem, HttpRemoteAPI, type SyncSystem } from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { LIMITS } from '@ferry/protocol';
import { makeRecord, recordFields } from '../data.js';
import { finish } from '../proc.js';
import { expectCount, rssSampler, scratchDir, timedWithCpu } from './measure.js';

const QUEUE_TX = 1000;

/** A device: the full sync system on its own SQLite file, with the protocol's largest batches. */
function device(dir: string, name: string, url: string, token: string): Promise<SyncSystem> {
  return createSyncSystem({
    remoteAPI: new HttpRemoteAPI({ baseUrl: url, getToken: () => token, timeoutMs: 60_000 }),
    driver: createBetterSqliteDriver(join(dir, `${name}.db`)),
    clientId: name,
    autoStart: false,
    syncInterval: 0,
    writeDebounceMs: -1,
    batchSize: LIMITS.maxChangesPerPush,
    pageSize: LIMITS.maxPullLimit,
  });
}

/** Queues `count` CREATEs through the change tracker (entity + outbox per change), untimed. */
async function queueOffline(system: SyncSystem, count: number): Promise<void> {
  const tracker = system.changeTracker;
  for (let start = 0; start < count; start += QUEUE_TX) {
    await system.localStore.write(async (tx) => {
      for (let index = start; index < Math.min(count, start + QUEUE_TX); index++) {
        const record = makeRecord(index);
        await tracker.trackChangeIn(tx, 'todos', record.id, 'CREATE', recordFields(record));
      }
    });
  }
}

async function sync(url: string, token: string, count: number, serverPid: number) {
  const dir = scratchDir('ferry-client');
  try {
    const writer = await device(dir, 'device-a', url, token);
    await queueOffline(writer, count);
    // CPU time of both sides over the push and the pull: it moves far less with the machine's load than wall time.
    const push = await timedWithCpu(count, serverPid, async () => {
      const result = await writer.syncManager.pushChanges();
      if (result.error) throw result.error;
      expectCount('Ferry push', result.successful, count);
    });
    await writer.close();
    const reader = await device(dir, 'device-b', url, token);
    const pull = await timedWithCpu(count, serverPid, async () => {
      const result = await reader.syncManager.pullChanges();
      expectCount('Ferry pull', result.totalChanges, count);
    });
    await reader.close();
    return { push, pull };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function pullWithRss(url: string, token: string, count: number, serverPid: number) {
  const dir = scratchDir('ferry-rss');
  try {
    const reader = await device(dir, 'device-rss', url, token);
    const baselineMB = Math.round(process.memoryUsage.rss() / 1024 / 1024);
    const sampler = rssSampler();
    // CPU time of both sides (the client's: all its threads) over the pull.
    const pull = await timedWithCpu(count, serverPid, async () => {
      const result = await reader.syncManager.pullChanges();
      expectCount('Ferry pull (RSS)', result.totalChanges, count);
    });
    const rss = sampler.stop();
    await reader.close();
    return { pull, baselineMB, ...rss };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const [mode, url, token, count, serverPid] = process.argv.slice(2);
if (!url || !token || !count) throw new Error('Usage: ferryClient.ts sync|pull <url> <token> <count> [serverPid]');
finish(
  mode === 'pull'
    ? await pullWithRss(url, token, Number(count), Number(serverPid ?? 0))
    : await sync(url, token, Number(count), Number(serverPid ?? 0)),
);
