import { describe, expect, it } from 'vitest';
import { runSeed } from '../../sim/runSeed.js';

/**
 * Seeds that once failed, kept forever. Each replays exactly (`npm run sim -- --seed S
 * --clients C --ops M`), so a regression shows up as the same broken invariant.
 */
const REGRESSIONS: ReadonlyArray<{
  seed: number;
  clients: string;
  ops: number;
  why: string;
  serverWins?: boolean;
  manual?: boolean;
  compaction?: boolean;
}> = [
  {
    seed: 4,
    clients: '3-8',
    ops: 300,
    why: 'a kill armed before healing fired during the final sync; a device must reopen and still converge',
  },
  {
    seed: 15,
    clients: '3-8',
    ops: 300,
    why: 'an app killed right after a committed delete (in a store listener) must keep the delete; backoff jitter made virtual time fractional and the server sent a non-integer serverTime',
  },
  {
    seed: 389,
    clients: '3-8',
    ops: 300,
    why: 'an app upgrade while a kill was armed: the graceful close must finish and the new engine resume the outbox',
  },
  {
    seed: 584,
    clients: '3-8',
    ops: 300,
    why: 'an app upgrade right after kills and server crashes after commit: no acknowledged change lost',
  },
  {
    seed: 2031,
    clients: '3-8',
    ops: 300,
    why: 'REST writes racing device pushes on shared entities (a REST create keeps `id` among the fields) still converge',
  },
  {
    seed: 25,
    clients: '3-8',
    ops: 300,
    why: 'a token expired mid-push must be refused (signDevToken ignored an injected `now` for string durations), refreshed once, and the outbox still drain',
  },
  {
    seed: 56,
    clients: '3-8',
    ops: 300,
    compaction: true,
    why: 'a reset after compaction dropped swept entities with their version vectors; a re-create then looked older than tombstones elsewhere and was ignored',
  },
  {
    seed: 30,
    clients: '3-8',
    ops: 300,
    compaction: true,
    why: "a REST create of an id whose tombstone compaction removed restarted the server's vector component; devices ignored it",
  },
  {
    seed: 19,
    clients: '3-8',
    ops: 300,
    serverWins: true,
    manual: true,
    why: 'a delete-delete settled on pull left the parked conflict in the inbox; resolving it later for the server brought back a stale live copy',
  },
];

describe('simulator regressions', () => {
  for (const { seed, clients, ops, why, serverWins, manual, compaction } of REGRESSIONS) {
    it(`seed ${seed}: ${why}`, async () => {
      const [min, max] = clients.split('-').map(Number) as [number, number];
      const outcome = await runSeed({ seed, clients: [min, max], ops, serverWins, manual, compaction });
      expect(outcome.error ?? 'ok', `npm run sim -- --seed ${seed} --clients ${clients} --ops ${ops}`).toBe('ok');
      expect(outcome.stats.requests).toBeGreaterThan(0);
    }, 120_000);
  }
});
