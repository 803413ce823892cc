import { SyncError, SyncErrorCode } from '@ferry/client';
import type { SimDevice } from './simDevice.js';
import { regime, type World } from './world.js';

/**
 * The app's user working through the conflict inbox of a `manual` device: each parked conflict
 * is resolved with a drawn winner. On a private entity (one writer) the user keeps their own
 * write, so the model of what the app saw committed stays the truth. On a shared one it picks
 * either side (the server's only with `serverWins`, on by default).
 * Returns how many conflicts were resolved (at most `limit`).
 */
export async function resolveParked(world: World, device: SimDevice, limit: number): Promise<number> {
  const engine = device.engine;
  if (!engine) return 0;
  const listed = await world.app(device, () => engine.manager.listConflicts());
  if (listed.killed) return 0;
  let resolved = 0;
  for (const conflict of listed.value.slice(0, limit)) {
    const own = conflict.entityId.startsWith('p-');
    const serverWins = world.options.serverWins ?? regime('FERRY_SIM_SERVER_WINS');
    const winner = world.rng.pick(own || !serverWins ? (['local'] as const) : (['local', 'server'] as const));
    world.trace.add(`${device.name}: resolves parked conflict on ${conflict.entityId} (${winner} wins)`);
    world.shared.decided(device.name, conflict.entityType, conflict.entityId);
    let done: Awaited<ReturnType<typeof world.app>>;
    try {
      done = await world.app(device, () => engine.manager.resolveConflict(conflict.id, { winner }));
    } catch (error) {
      if (!(await settledMeanwhile(world, device, conflict.id, error))) throw error;
      continue;
    }
    if (done.killed) break;
    resolved++;
    world.inboxResolved++;
  }
  return resolved;
}

/**
 * Whether a resolution the app refused met a sync that settled the conflict first: the engine
 * syncs in the background, and a pull applied between the user's look at the inbox and their
 * decision may end the parked conflict (the server's record has seen everything the device has).
 * The app then gets the inbox's clear error and nothing is written, as for any user deciding on
 * a screen a sync just changed.
 */
async function settledMeanwhile(world: World, device: SimDevice, id: string, error: unknown): Promise<boolean> {
  const engine = device.engine;
  if (!engine || !(error instanceof SyncError) || error.code !== SyncErrorCode.VALIDATION_ERROR) return false;
  const listed = await world.app(device, () => engine.manager.listConflicts());
  if (listed.killed || listed.value.some((conflict) => conflict.id === id)) return false;
  world.trace.add(`${device.name}: the parked conflict ${id} was settled by a sync meanwhile; nothing resolved`);
  return true;
}

/** Conflicts still parked on a device (none may remain at quiescence). */
export async function parkedCount(device: SimDevice): Promise<number> {
  const engine = device.engine;
  if (!engine) return 0;
  return (await engine.driver.uncounted(() => engine.manager.listConflicts())).length;
}
