import type { Role } from '@ferry/protocol';
import { describe, expect, it } from 'vitest';
import { runSeed, type SeedOutcome } from '../../sim/runSeed.js';
import type { SimRequest, SimResponse } from '../../sim/simServer.js';
import type { World } from '../../sim/world.js';

/**
 * The simulator's sharing regime: several users with several devices share spaces with all
 * three roles, grants and revokes at random moments, under every fault. Each invariant (a)-(e)
 * of sim/sharingInvariants.ts gets a planted bug that it must catch: a check that cannot fail
 * proves nothing.
 */
const SEEDS = 12;

/** Runs seeds 1..`seeds` until one fails; returns the outcomes. */
async function untilFailure(seeds: number, tamper: (world: World) => void): Promise<SeedOutcome[]> {
  const outcomes: SeedOutcome[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    // Bursts and partial sync off: each planted bug is shown to trip its own invariant in the
    // worlds it was tried on.
    const outcome = await runSeed({
      seed,
      clients: [3, 6],
      ops: 150,
      sharing: true,
      bursts: false,
      types: false,
      tamper,
    });
    outcomes.push(outcome);
    if (!outcome.ok) break;
  }
  return outcomes;
}

/** The first failure's message (the test fails when none failed). */
function firstError(outcomes: readonly SeedOutcome[]): string {
  const failed = outcomes.find((outcome) => !outcome.ok);
  expect(failed, `no seed of ${outcomes.length} failed`).toBeDefined();
  return failed!.error ?? '';
}

/** Wraps the server's request handling (a server with a planted bug). */
function wrapServer(
  world: World,
  wrap: (
    request: SimRequest,
    scope: string,
    handle: (request: SimRequest) => Promise<SimResponse>,
  ) => Promise<SimResponse>,
): void {
  const handle = world.server.handle.bind(world.server);
  world.server.handle = (request, scope) => wrap(request, scope, (changed) => handle(changed, scope));
}

describe('the sharing regime', () => {
  it(`holds every invariant on ${SEEDS} seeds of users sharing spaces under faults`, async () => {
    const failures: string[] = [];
    const seen = { spaces: 0, grants: 0, roleChanges: 0, removals: 0, leaves: 0, writes: 0, attempts: 0, refusals: 0 };
    for (let seed = 1; seed <= SEEDS; seed++) {
      const outcome = await runSeed({ seed, clients: [3, 6], ops: 150, sharing: true });
      if (!outcome.ok)
        failures.push(`seed ${seed}: ${outcome.error}\n  npm run sim -- --seed ${seed} --clients 3-6 --ops 150`);
      for (const key of Object.keys(seen) as Array<keyof typeof seen>) seen[key] += outcome.stats.sharing?.[key] ?? 0;
    }
    expect(failures).toEqual([]);
    // Every kind of sharing step really ran, and the server refused some (viewers, non-members).
    for (const [key, count] of Object.entries(seen)) expect(count, key).toBeGreaterThan(0);
  }, 600_000);

  it('leaves a world without sharing exactly as it was (FERRY_SIM_SHARING=0)', async () => {
    const off = await runSeed({ seed: 7, clients: 4, ops: 80, sharing: false });
    const on = await runSeed({ seed: 7, clients: 4, ops: 80, sharing: true });
    expect(off.ok && on.ok).toBe(true);
    expect(off.stats.sharing).toBeUndefined();
    expect(on.stats.sharing?.spaces).toBeGreaterThan(0);
    const again = await runSeed({ seed: 7, clients: 4, ops: 80, sharing: false });
    expect(again.stats).toEqual(off.stats);
  }, 120_000);

  it('(a) catches a server that keeps listing spaces a user was removed from', async () => {
    const tamper = (world: World) => {
      const listed = new Map<string, Map<string, Role>>();
      wrapServer(world, async (request, scope, handle) => {
        const response = await handle(request);
        if (request.method !== 'POST' || !request.url.startsWith('/v1/pull') || response.status !== 200)
          return response;
        const body = JSON.parse(response.body) as { membership: Array<{ id: string; name: string; role: Role }> };
        const ever = listed.get(scope) ?? new Map<string, Role>();
        listed.set(scope, ever);
        for (const space of body.membership) ever.set(space.id, space.role);
        const now = new Set(body.membership.map((space) => space.id));
        for (const [id, role] of ever) if (!now.has(id)) body.membership.push({ id, name: id, role });
        return { ...response, body: JSON.stringify(body) };
      });
    };
    expect(firstError(await untilFailure(20, tamper))).toMatch(/^\(a\) dev\d+ still holds records of sp_/);
  }, 600_000);

  it("(b) catches a server that applies a viewer's or non-member's change", async () => {
    const tamper = (world: World) => {
      wrapServer(world, async (request, scope, handle) => {
        if (!request.url.startsWith('/v1/push') || !world.sharing) return handle(request);
        const { changes } = JSON.parse(request.body ?? '{}') as { changes: Array<{ space?: string }> };
        const space = changes.find((change) => change.space)?.space;
        const role = space ? world.sharing.roleOf(space, scope) : null;
        const owner = space
          ? [...(world.sharing.members.get(space) ?? [])].find(([, r]) => r === 'owner')?.[0]
          : undefined;
        const alone = changes.every((change) => change.space === space);
        if (!space || !alone || role === 'owner' || role === 'editor' || !owner) return handle(request);
        // The planted bug: the push is authorized as the space's owner.
        return handle({
          ...request,
          headers: { ...request.headers, authorization: `Bearer ${world.tokens.get(owner)}` },
        });
      });
    };
    expect(firstError(await untilFailure(20, tamper))).toMatch(
      /^\(b\) \w+'s change .* while \w+ was (viewer|editor|not a member)/,
    );
  }, 600_000);

  it('(c) catches a server that loses a shared record on its way to a device', async () => {
    const tamper = (world: World) => {
      let pages = 0;
      wrapServer(world, async (request, _scope, handle) => {
        const response = await handle(request);
        if (request.method !== 'POST' || !request.url.startsWith('/v1/pull') || response.status !== 200)
          return response;
        const body = JSON.parse(response.body) as { pages: Array<{ space: string | null; changes: unknown[] }> };
        for (const page of body.pages) {
          if (page.space !== null && page.changes.length > 0 && ++pages % 4 === 0) page.changes.shift();
        }
        return { ...response, body: JSON.stringify(body) };
      });
    };
    expect(firstError(await untilFailure(20, tamper))).toMatch(/^\(c\) dev\d+ diverged on .* in sp_/);
  }, 600_000);

  it('(d) catches a server that acknowledges writes in a shared space without storing them', async () => {
    const tamper = (world: World) => {
      wrapServer(world, async (request, _scope, handle) => {
        if (!request.url.startsWith('/v1/push')) return handle(request);
        const { changes } = JSON.parse(request.body ?? '{}') as {
          changes: Array<{ id: string; space?: string; entityType: string }>;
        };
        if (!changes.every((change) => change.space && change.entityType === 'todos')) return handle(request);
        const results = changes.map((change) => ({ changeId: change.id, status: 'applied' }));
        const body = JSON.stringify({ results, cursor: 0, serverTime: world.clock.wallNow() });
        return { status: 200, headers: { 'content-type': 'application/json' }, body };
      });
    };
    expect(firstError(await untilFailure(20, tamper))).toMatch(
      /^\(d\) acknowledged change \S+ in sp_\w+ is not on the server/,
    );
  }, 600_000);

  it('(e) catches a device that silently drops changes the server refused', async () => {
    // The planted bug: the app throws away refused membership changes as they arrive.
    const tamper = (world: World) => {
      for (const device of world.devices) {
        const open = device.open.bind(device);
        const drop = () => {
          const engine = device.engine;
          engine?.manager.subscribeToDeadLetters((letters) => {
            for (const letter of letters) {
              if (letter.change.entityType !== 'todos') void engine.manager.discardDeadLetter(letter.change.id);
            }
          });
        };
        device.open = async () => {
          const engine = await open();
          drop();
          return engine;
        };
        drop();
      }
    };
    expect(firstError(await untilFailure(20, tamper))).toMatch(
      /^\(e\) dev\d+'s change \S+ in sp_\w+ was refused as FORBIDDEN/,
    );
  }, 600_000);
});
