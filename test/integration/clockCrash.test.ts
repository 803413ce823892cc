import { join } from 'node:path';
import { ChangeTracker, createSyncSystem, HttpRemoteAPI, LocalStore } from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { decodeHlc, encodeHlc, HybridLogicalClock } from '@ferry/protocol';
import { createServer, defaultSchema, type FerryServer, signDevToken } from '@ferry/server';
import { describe, expect, it } from 'vitest';
import { Prng } from '../../sim/prng.js';
import { processTestBench, spawnTsx } from '../support/serveProcess.js';

/**
 * Real processes, real SIGKILLs: an app process whose physical clock is stuck, writing and
 * syncing against a real server while another device (whose clock runs two minutes ahead) writes
 * too, killed at seeded moments right after a write or right after a sync (its outbox drained by
 * the push, its clock advanced by pulled stamps). After each kill the store is reopened: the
 * first stamp it issues is past the last stamp the app reported after a commit.
 */
const SECRET = 'clock-crash-secret-long-enough-for-hs256';
const CLIENT = join(import.meta.dirname, '../support/clockClient.ts');
const SEED = 18;

const { children, dir: testDir } = processTestBench('ferry-clock-crash-');

/** The time part of a stamp, as a string that sorts the way the clock orders stamps. */
function timeOf(stamp: string): string {
  const { wallTime, counter } = decodeHlc(stamp);
  return encodeHlc({ wallTime, counter, node: 'x' });
}

/**
 * The stamp of the first write after a restart of the app's store (same client id, same stuck
 * physical clock): a write the app will push on its next run, like any other.
 */
async function firstStampAfterRestart(dbPath: string, now: number, id: string): Promise<string> {
  const store = await LocalStore.open(createBetterSqliteDriver(dbPath));
  try {
    const tracker = new ChangeTracker(store, 'clock-device', {
      clock: new HybridLogicalClock('clock-device', { now: () => now }),
    });
    return (await tracker.trackChange('todos', id, 'CREATE', { title: id, completed: false })).hlc;
  } finally {
    await store.close();
  }
}

describe('the clock across real-process crashes', () => {
  it('an app SIGKILLed right after a write or a sync never recovers a clock behind what it reported', async () => {
    const dir = testDir();
    const rng = new Prng(SEED);
    const now = Date.now();
    const server: FerryServer = await createServer({
      dbPath: join(dir, 'server.db'),
      schema: defaultSchema,
      auth: { secret: SECRET },
    });
    try {
      const { url } = await server.listen({ port: 0, host: '127.0.0.1' });
      const token = await signDevToken(SECRET, 'alice', { expiresIn: '1h' });
      // The other device: its clock runs ahead, so what the app pulls moves the app's clock.
      const otherStore = await LocalStore.open(createBetterSqliteDriver(join(dir, 'other.db')));
      let ahead = now + 120_000;
      new ChangeTracker(otherStore, 'other-device', {
        clock: new HybridLogicalClock('other-device', { now: () => ahead }),
      });
      const other = await createSyncSystem({
        remoteAPI: new HttpRemoteAPI({ baseUrl: url, getToken: () => token, timeoutMs: 5000 }),
        localStore: otherStore,
        clientId: 'other-device',
        autoStart: false,
        syncInterval: 0,
        writeDebounceMs: -1,
      });
      const dbPath = join(dir, 'app.db');
      const afterSync: boolean[] = [];
      try {
        for (let round = 0; round < 6; round++) {
          ahead += 1000;
          await other.collection('todos').insert({ id: `other-${round}`, title: 'ahead', completed: false });
          await other.syncManager.performFullSync();
          // Even rounds die right after a write, odd ones right after a sync.
          const kind = round % 2 === 0 ? 'write' : 'sync';
          const killAt = rng.int(1, 4);
          let seen = 0;
          let reported = '';
          const { exited } = spawnTsx(
            [CLIENT, url, dbPath, token, `r${round}`, String(now)],
            (line, child) => {
              const [tag, stamp, after] = line.split(' ');
              if (tag !== 'clock' || !stamp) return;
              reported = stamp;
              if (after === kind && ++seen === killAt) child.kill('SIGKILL');
              else child.stdin?.write('go\n');
            },
            { children, stdin: true },
          );
          await exited;
          expect(reported, `round ${round}: the app reported no commit`).not.toBe('');
          afterSync.push(kind === 'sync');
          const next = await firstStampAfterRestart(dbPath, now, `restart-${round}`);
          expect(timeOf(next) > timeOf(reported), `round ${round}: ${next} issued after ${reported}`).toBe(true);
        }
        // The pulled stamps did move the app's clock past its stuck physical time.
        expect(decodeHlc(await firstStampAfterRestart(dbPath, now, 'last')).wallTime).toBeGreaterThan(now);
        expect(afterSync).toContain(true);
      } finally {
        await other.close();
      }
    } finally {
      await server.close();
    }
  }, 120_000);
});
