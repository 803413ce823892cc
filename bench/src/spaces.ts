/**
 * `npm run bench:spaces [-- --quick]`: the sharing scenarios, against a real server on
 * 127.0.0.1 over an SQLite file, with a real device (better-sqlite3 file).
 *
 *   idle pull   a user in 1,000 shared spaces, device up to date: one `POST /v1/pull` with the
 *               full checkpoint; p50 / p95 over 200 requests (target p50 < 50 ms)
 *   backfill    a space of 100,000 records granted to a new member: the device's first sync
 *               after the grant (records/s, and the process's RSS growth)
 *
 * Figures only: nothing here asserts a time. Seeding writes through the storage directly (the
 * same transaction path as a push) so the setup stays short.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSyncSystem, HttpRemoteAPI } from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import {
  type Change,
  encodeHlc,
  HybridLogicalClock,
  MEMBER_TYPE,
  memberEntityId,
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  SPACE_TYPE,
} from '@ferry/protocol';
import { createServer, defaultSchema, SqliteStorage, signDevToken } from '@ferry/server';
import { decideChange } from '../../packages/server/src/push/decideChange.js';
import { decideInSpace } from '../../packages/server/src/spaces/decideInSpace.js';

const quick = process.argv.includes('--quick');
const SPACES = quick ? 100 : 1_000;
const BACKFILL = quick ? 5_000 : 100_000;
const IDLE_REQUESTS = quick ? 50 : 200;
const SECRET = 'bench-spaces-secret-long-enough-for-hs256';
const T0 = Date.now();

let counter = 0;
function change(entityType: string, entityId: string, data: Change['data'], space: string): Change {
  counter++;
  return {
    id: `b-${counter}`,
    entityType,
    entityId,
    operation: 'CREATE',
    data,
    timestamp: T0,
    hlc: encodeHlc({ wallTime: T0, counter: counter % 1_000_000, node: 'bench' }),
    version: 1,
    vector: { bench: counter },
    clientId: 'bench',
    space,
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-spaces-'));
  const storage = new SqliteStorage(join(dir, 'server.db'));
  const server = await createServer({ storage, schema: defaultSchema, auth: { secret: SECRET }, live: false });
  const { url } = await server.listen({ port: 0, host: '127.0.0.1' });
  const clock = new HybridLogicalClock('server');
  const seed = (owner: string, space: string, changes: Change[]) =>
    storage.applyChanges(
      space,
      changes,
      (input) =>
        decideInSpace(input, { user: owner, space, source: { kind: 'storage' } }, (inner) =>
          decideChange(inner, { schema: defaultSchema, clock }),
        ),
      { actor: owner },
    );
  try {
    // --- idle pull: 1,000 spaces, each with a few records, the device holding every cursor ---
    const cursors: Record<string, number> = {};
    for (let i = 0; i < SPACES; i++) {
      const space = `sp_bench${String(i).padStart(6, '0')}`;
      const outcome = await seed('olga', space, [
        change(SPACE_TYPE, space, { name: `space ${i}` }, space),
        change(MEMBER_TYPE, memberEntityId(space, 'ida'), { role: 'viewer' }, space),
        change('todos', `t-${i}`, { title: `todo ${i}`, completed: false }, space),
      ]);
      cursors[space] = outcome.cursor;
    }
    const token = await signDevToken(SECRET, 'ida', { expiresIn: '1h' });
    const body = JSON.stringify({ spaces: cursors });
    const idle = async () => {
      const response = await fetch(`${url}/v1/pull`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
        },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      const answer = (await response.json()) as { pages: unknown[]; membership: unknown[] };
      if (answer.pages.length !== 0 || answer.membership.length !== SPACES) throw new Error('the idle pull moved data');
    };
    for (let i = 0; i < 10; i++) await idle(); // warm-up
    const times: number[] = [];
    for (let i = 0; i < IDLE_REQUESTS; i++) {
      const start = performance.now();
      await idle();
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
    console.log(
      `idle pull, ${SPACES} spaces, one request: p50 ${at(0.5).toFixed(2)} ms, p95 ${at(0.95).toFixed(2)} ms (${IDLE_REQUESTS} requests, checkpoint ${(body.length / 1024).toFixed(1)} KiB)`,
    );

    // --- backfill on grant: a space of BACKFILL records, then a new member's first sync ---
    const space = 'sp_backfill01';
    await seed('olga', space, [change(SPACE_TYPE, space, { name: 'big' }, space)]);
    for (let start = 0; start < BACKFILL; start += 500) {
      const batch: Change[] = [];
      for (let i = start; i < Math.min(BACKFILL, start + 500); i++) {
        batch.push(change('todos', `big-${i}`, { title: `item ${i}`, completed: i % 2 === 0 }, space));
      }
      await seed('olga', space, batch);
    }
    await seed('olga', space, [change(MEMBER_TYPE, memberEntityId(space, 'gus'), { role: 'viewer' }, space)]);
    const gusToken = await signDevToken(SECRET, 'gus', { expiresIn: '1h' });
    const device = await createSyncSystem({
      remoteAPI: new HttpRemoteAPI({ baseUrl: url, getToken: () => gusToken, timeoutMs: 60_000 }),
      driver: createBetterSqliteDriver(join(dir, 'gus.db')),
      autoStart: false,
      syncInterval: 0,
    });
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }, 20);
    const start = performance.now();
    await device.forceSync();
    const seconds = (performance.now() - start) / 1000;
    clearInterval(sampler);
    const held = await device.collection('todos').count();
    await device.close();
    if (held !== BACKFILL) throw new Error(`backfill holds ${held} of ${BACKFILL} records`);
    console.log(
      `backfill on grant, ${BACKFILL} records: ${seconds.toFixed(2)} s (${Math.round(BACKFILL / seconds)} records/s), ` +
        `RSS +${((rssPeak - rssBefore) / 1024 / 1024).toFixed(0)} MiB (server and device in one process)`,
    );
  } finally {
    await server.close();
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
