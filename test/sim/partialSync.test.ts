import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cursorKeyOf, noPartialSyncYet, type PartialSyncStats } from '../../sim/partialSync.js';
import { runSeed } from '../../sim/runSeed.js';
import type { World } from '../../sim/world.js';

/**
 * The simulator's partial-sync regime: apps write notes beside todos, devices pull a drawn subset
 * of the types, and apps restart with other `pullTypes` (narrower, wider, back to all) among every
 * other fault. Its invariants: a device holds exactly the server's live records of the types it
 * pulls (private and per space), its own writes stay whatever it pulls, no queued write is lost.
 */
describe('the partial-sync regime', () => {
  it('holds every invariant while devices change pullTypes, and every kind of change ran', async () => {
    const failures: string[] = [];
    const seen = noPartialSyncYet();
    for (let seed = 1; seed <= 10; seed++) {
      const outcome = await runSeed({ seed, clients: [3, 6], ops: 150, types: true });
      if (!outcome.ok) failures.push(`seed ${seed}: ${outcome.error}`);
      for (const key of Object.keys(seen) as Array<keyof PartialSyncStats>)
        seen[key] += outcome.stats.types?.[key] ?? 0;
    }
    expect(failures).toEqual([]);
    for (const [key, count] of Object.entries(seen)) expect(count, key).toBeGreaterThan(0);
  }, 600_000);

  it('leaves a world without partial sync exactly as it was (FERRY_SIM_TYPES=0)', async () => {
    const off = await runSeed({ seed: 7, clients: 4, ops: 80, types: false });
    const on = await runSeed({ seed: 7, clients: 4, ops: 80, types: true });
    expect(off.ok && on.ok).toBe(true);
    expect(off.stats.types).toBeUndefined();
    expect(on.stats.types?.notes).toBeGreaterThan(0);
    const again = await runSeed({ seed: 7, clients: 4, ops: 80, types: false });
    expect(again.stats).toEqual(off.stats);
  }, 120_000);

  /**
   * The planted bug is the private half of the product before b73011d: the first pull under other
   * types reads the private space from 0 as a plain read, not as a reset. Planted in the device's
   * file before each app opens with other types: a private cursor of 0 for the new types, so the
   * engine sees no change of types. (The shared half, spaces read from 0 without dropping their
   * records, cannot be planted any more: every read of a space from 0 now drops them itself.)
   * Seeds 223 and 245 of 1-300 fail with it.
   */
  it('catches a device that reads its private space from 0 after a change of pullTypes without a reset', async () => {
    const tamper = (world: World) => {
      for (const device of world.devices) {
        const open = device.open.bind(device);
        let opened = cursorKeyOf(device.pullTypes);
        device.open = async () => {
          const key = cursorKeyOf(device.pullTypes);
          if (key !== opened) {
            const db = new Database(device.dbPath);
            try {
              db.prepare(`INSERT OR IGNORE INTO ferry_kv (key, value) VALUES (?, '0')`).run(key);
            } finally {
              db.close();
            }
            opened = key;
          }
          return open();
        };
      }
    };
    // Every regime on, as in the run that found it.
    const regimes = { compaction: true, manual: true, serverWins: true, sharing: true, bursts: true, types: true };
    const planted = await runSeed({ seed: 223, clients: [3, 8], ops: 300, ...regimes, tamper });
    expect(planted.error ?? 'ok').toMatch(/^dev\d+ diverged on \S+: device .*, server absent$/);
    const clean = await runSeed({ seed: 223, clients: [3, 8], ops: 300, ...regimes });
    expect(clean.error ?? 'ok').toBe('ok');
  }, 120_000);
});
