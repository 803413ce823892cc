/**
 * Child entry: Ferry's client engine end to end against a Ferry server child.
 *
 *   sync <url> <token> <count> [serverPid]  queue `count` changes offline, push them all;
 *                               then pull them all into a fresh device. With the server's pid
 *                               (Linux), the push also reports both processes' CPU time
 *   pull <url> <token> <count>  pull `count` records into a fresh device, sampling RSS
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createSyncSystem, HttpRemoteAPI, type SyncSystem } from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { LIMITS } from '@ferry/protocol';
import { makeRecord, recordFields } from '../data.js';
import { finish } from '../proc.js';
import { expectCount, rssSampler, scratchDir, timed } from './measure.js';

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

/**
 * CPU time (user + system, ms) the process `pid` has used, from `/proc/<pid>/stat` (clock ticks
 * of 10 ms); undefined where there is no such file.
 */
function processCpuMs(pid: number): number | undefined {
  try {
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

async function sync(url: string, token: string, count: number, serverPid: number) {
  const dir = scratchDir('ferry-client');
  try {
    const writer = await device(dir, 'device-a', url, token);
    await queueOffline(writer, count);
    const cpuBefore = process.cpuUsage();
    const serverBefore = processCpuMs(serverPid);
    const timedPush = await timed(count, async () => {
      const result = await writer.syncManager.pushChanges();
      if (result.error) throw result.error;
      expectCount('Ferry push', result.successful, count);
    });
    const cpu = process.cpuUsage(cpuBefore);
    const serverAfter = processCpuMs(serverPid);
    // CPU time of both sides over the push: it moves far less with the machine's load than wall time.
    const push = {
      ...timedPush,
      clientCpuMs: Math.round((cpu.user + cpu.system) / 1000),
      ...(serverBefore === undefined || serverAfter === undefined ? {} : { serverCpuMs: serverAfter - serverBefore }),
    };
    await writer.close();
    const reader = await device(dir, 'device-b', url, token);
    const pull = await timed(count, async () => {
      const result = await reader.syncManager.pullChanges();
      expectCount('Ferry pull', result.totalChanges, count);
    });
    await reader.close();
    return { push, pull };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function pullWithRss(url: string, token: string, count: number) {
  const dir = scratchDir('ferry-rss');
  try {
    const reader = await device(dir, 'device-rss', url, token);
    const baselineMB = Math.round(process.memoryUsage.rss() / 1024 / 1024);
    const sampler = rssSampler();
    const cpuBefore = process.cpuUsage();
    const pull = await timed(count, async () => {
      const result = await reader.syncManager.pullChanges();
      expectCount('Ferry pull (RSS)', result.totalChanges, count);
    });
    const cpu = process.cpuUsage(cpuBefore);
    const rss = sampler.stop();
    await reader.close();
    // The client's CPU time (user + system, all threads) over the pull: it moves far less with
    // the machine's load than wall time does.
    return { pull, cpuMs: Math.round((cpu.user + cpu.system) / 1000), baselineMB, ...rss };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const [mode, url, token, count, serverPid] = process.argv.slice(2);
if (!url || !token || !count) throw new Error('Usage: ferryClient.ts sync|pull <url> <token> <count>');
finish(
  mode === 'pull'
    ? await pullWithRss(url, token, Number(count))
    : await sync(url, token, Number(count), Number(serverPid ?? 0)),
);
