import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSeed } from '../../sim/runSeed.js';
import { shrinkOps } from '../../sim/shrink.js';
import type { SimRequest } from '../../sim/simServer.js';
import type { World } from '../../sim/world.js';
import { type PostgresCluster, postgresAvailable, startPostgres } from '../support/postgres.js';

const SEEDS = 50;

describe('deterministic simulator', () => {
  it(`holds every invariant on ${SEEDS} seeds of faults (3-5 devices, 100 ops)`, async () => {
    const failures: string[] = [];
    let requests = 0;
    const seen = { pokes: 0, refused: 0, refreshes: 0 };
    for (let seed = 1; seed <= SEEDS; seed++) {
      const outcome = await runSeed({ seed, clients: [3, 5], ops: 100 });
      requests += outcome.stats.requests;
      for (const key of Object.keys(seen) as Array<keyof typeof seen>) seen[key] += outcome.stats[key];
      if (!outcome.ok) {
        failures.push(`seed ${seed}: ${outcome.error}\n  npm run sim -- --seed ${seed} --clients 3-5 --ops 100`);
      }
    }
    expect(failures).toEqual([]);
    // The worlds did real work over the network, not a vacuous pass.
    expect(requests).toBeGreaterThan(SEEDS * 50);
    // Every newer fault really ran: pokes, expired tokens refused then refreshed.
    for (const [key, count] of Object.entries(seen)) expect(count, key).toBeGreaterThan(0);
  }, 300_000);

  it('resets devices from a snapshot after history compaction, outbox kept', async () => {
    let resets = 0;
    // The worlds these seeds draw without bursts are the ones known to compact past a device.
    for (const seed of [1, 3, 4]) {
      const outcome = await runSeed({ seed, clients: [3, 8], ops: 300, compaction: true, bursts: false });
      expect(outcome.error ?? 'ok', `npm run sim -- --seed ${seed} --clients 3-8 --ops 300`).toBe('ok');
      resets += outcome.stats.resets;
    }
    expect(resets).toBeGreaterThan(0);
  }, 180_000);

  describe.skipIf(!postgresAvailable())('on PostgreSQL', () => {
    let cluster: PostgresCluster | undefined;
    beforeAll(async () => {
      cluster = await startPostgres();
    }, 90_000);
    afterAll(async () => {
      await cluster?.stop();
    }, 60_000);

    it('holds every invariant and replays identically', async () => {
      const postgres = cluster!.url;
      for (const seed of [2, 5]) {
        const outcome = await runSeed({ seed, clients: [3, 5], ops: 100, postgres });
        expect(outcome.error ?? 'ok', `npm run sim -- --seed ${seed} --clients 3-5 --ops 100 --postgres`).toBe('ok');
        expect(outcome.stats.requests).toBeGreaterThan(50);
        const again = await runSeed({ seed, clients: [3, 5], ops: 100, postgres });
        expect(again.stats).toEqual(outcome.stats);
      }
    }, 120_000);
  });

  it('replays a seed identically', async () => {
    const first = await runSeed({ seed: 7, clients: 4, ops: 80 });
    const second = await runSeed({ seed: 7, clients: 4, ops: 80 });
    expect(first.ok).toBe(true);
    expect(second.stats).toEqual(first.stats);
  });

  it('hands requests that arrive together to the server at once, so group commits hold several pushes', async () => {
    let shared = 0;
    let largest = 0;
    for (const seed of [1, 2, 3]) {
      const outcome = await runSeed({ seed, clients: 5, ops: 150, bursts: true });
      expect(outcome.error ?? 'ok', `npm run sim -- --seed ${seed} --clients 5 --ops 150`).toBe('ok');
      shared += outcome.stats.bursts?.shared ?? 0;
      largest = Math.max(largest, outcome.stats.bursts?.largest ?? 0);
    }
    expect(shared).toBeGreaterThan(0);
    expect(largest).toBeGreaterThan(1);
    // Off, the world is the one it was before bursts existed (its own stream): same as ever, no groups.
    const off = await runSeed({ seed: 1, clients: 5, ops: 150, bursts: false });
    expect(off.ok).toBe(true);
    expect(off.stats.bursts).toBeUndefined();
  }, 180_000);

  it('catches a server that acknowledges pushes without storing them', async () => {
    // A planted bug: every push is answered "applied" and never reaches the storage.
    const tamper = (world: World) => {
      const handle = world.server.handle.bind(world.server);
      world.server.handle = async (request: SimRequest, scope: string) => {
        if (!request.url.startsWith('/v1/push')) return handle(request, scope);
        const { changes } = JSON.parse(request.body ?? '{}') as { changes: Array<{ id: string }> };
        const results = changes.map((change) => ({ changeId: change.id, status: 'applied' }));
        return {
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ results, cursor: 0, serverTime: world.clock.wallNow() }),
        };
      };
    };
    const outcome = await runSeed({ seed: 3, clients: 3, ops: 60, tamper });
    expect(outcome.ok).toBe(false);
    expect(outcome.error).toMatch(/not on the server|was lost|diverged/);
    expect(outcome.trace.length).toBeGreaterThan(0);

    // Shrunk to fewer ops, the world still fails, with a shorter story to read.
    const shrunk = await shrinkOps(60, outcome, (ops) => runSeed({ seed: 3, clients: 3, ops, tamper }));
    expect(shrunk.ops).toBeLessThan(60);
    expect(shrunk.outcome.ok).toBe(false);
    expect(shrunk.runs).toBeLessThanOrEqual(20);
    const passing = await runSeed({ seed: 3, clients: 3, ops: shrunk.ops - 1, tamper });
    if (shrunk.ops > 1) expect(passing.ok).toBe(true);
  });

  it('catches a device that loses its outbox on restart', async () => {
    // A planted bug: every reopen of an app wipes the outbox before the engine starts.
    const tamper = (world: World) => {
      for (const device of world.devices) {
        const open = device.open.bind(device);
        device.open = async () => {
          const wipe = device.generation > 0;
          const engine = await open();
          if (wipe) {
            await engine.store.write(async (tx) => {
              for (const change of await tx.pendingChanges(-1)) await tx.removeChange(change.id);
            });
          }
          return engine;
        };
      }
    };
    const errors: string[] = [];
    for (let seed = 1; seed <= 10 && errors.length === 0; seed++) {
      const outcome = await runSeed({ seed, clients: 3, ops: 200, tamper });
      if (!outcome.ok) errors.push(outcome.error ?? '');
    }
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/own write|lost|diverged|not on the server/);
  }, 120_000);
});
