import { SyncError, SyncErrorCode } from '@ferry/client';
import { parkedCount, resolveParked } from './conflictInbox.js';
import { healed } from './faults.js';
import {
  canonical,
  checkCaughtUp,
  checkCursor,
  checkDrained,
  checkIsolation,
  checkServerLog,
  deviceRecords,
  InvariantError,
  serverRecords,
  typeLabel,
} from './invariants.js';
import { performOp } from './ops.js';
import { changePullTypes, type PartialSyncStats, pulls, SIM_TYPES } from './partialSync.js';
import { performSharingOp, type Sharing, type SharingStats } from './sharing.js';
import { checkDeviceSpaces, checkRefusalsVisible, checkSpaceAuthorization, deadWrites } from './sharingInvariants.js';
import type { SimDevice } from './simDevice.js';
import { modelKey, World, type WorldOptions } from './world.js';

/** The result of one seed. */
export interface SeedOutcome {
  seed: number;
  ok: boolean;
  /** The broken invariant or the unexpected error. */
  error?: string;
  /** The tail of the trace (set when the seed failed). */
  trace: string[];
  stats: {
    devices: number;
    events: number;
    requests: number;
    /** Requests per `METHOD /path`. */
    routes: Record<string, number>;
    virtualMs: number;
    kills: number;
    restarts: number;
    /** Pokes delivered, 401s met, token refreshes, compactions, resets asked (410 or reset pages), inbox conflicts resolved. */
    pokes: number;
    refused: number;
    refreshes: number;
    compactions: number;
    resets: number;
    inboxResolved: number;
    /** What the sharing regime did (absent when it is off). */
    sharing?: SharingStats & { refusals: number };
    /** Request bursts (absent when off): the grid, and the server's group commits under them. */
    bursts?: { gridMs: number; commits: number; shared: number; largest: number };
    /** What the partial-sync regime did (absent when it is off). */
    types?: PartialSyncStats;
  };
}

/** Requests allowed per device and idle virtual minute once everything is in sync (interval 30 s). */
const IDLE_REQUESTS_PER_MINUTE = 6;
const IDLE_MINUTES = 5;

/**
 * Runs one seed: `ops` steps of writes and faults with invariants checked after each, then
 * heals the world (no faults, everyone online and running), syncs until quiet, idles to
 * prove nothing spins, and checks every invariant at quiescence.
 */
export async function runSeed(options: WorldOptions): Promise<SeedOutcome> {
  let world: World | undefined;
  let error: unknown;
  try {
    world = await World.create(options);
    for (let op = 0; op < options.ops; op++) {
      await performOp(world, op);
      // Sharing draws from a stream of its own: with it off, the world is the one it always was.
      if (world.sharing?.rng.chance(world.sharing.rate)) await performSharingOp(world, world.sharing, op);
      // So does partial sync.
      if (world.partial?.rng.chance(world.partial.changeRate)) await changePullTypes(world, world.partial);
      await world.clock.advance(world.rng.int(0, 2_000));
      // Every few ops is enough to catch a regression within a handful of steps, at a fifth of the cost.
      if (op % 5 === 4) await checkRunning(world);
    }
    await heal(world);
    await checkQuiescent(world);
  } catch (caught) {
    error = caught;
  }
  const outcome: SeedOutcome = {
    seed: options.seed,
    ok: error === undefined,
    trace: error === undefined || !world ? [] : world.trace.lines(),
    stats: {
      devices: world?.devices.length ?? 0,
      events: world?.clock.eventsRun ?? 0,
      requests: world ? [...world.network.requests.values()].reduce((a, b) => a + b, 0) : 0,
      routes: Object.fromEntries(world?.network.routes ?? []),
      virtualMs: world?.clock.now ?? 0,
      kills: world?.kills ?? 0,
      restarts: world?.server.restarts ?? 0,
      pokes: world?.liveHub.pokes ?? 0,
      refused: world?.network.answers.get(401) ?? 0,
      refreshes: world?.devices.reduce((sum, device) => sum + device.tokenRefreshes, 0) ?? 0,
      compactions: world?.compactions ?? 0,
      resets: world?.network.resets ?? 0,
      inboxResolved: world?.inboxResolved ?? 0,
      ...(world?.sharing ? { sharing: { ...world.sharing.stats, refusals: world.ledger.refusalsHeard } } : {}),
      ...(world?.burstMs ? { bursts: { gridMs: world.burstMs, ...world.server.groups } } : {}),
      ...(world?.partial ? { types: { ...world.partial.stats } } : {}),
    },
  };
  if (error !== undefined) {
    outcome.error =
      error instanceof InvariantError && !options.echo ? error.message : String((error as Error)?.stack ?? error);
  }
  await world?.close();
  return outcome;
}

/** The types the apps of a world write: notes only with the partial-sync regime on. */
function typesOf(world: World): readonly string[] {
  return world.partial ? SIM_TYPES : ['todos'];
}

/** Invariants that hold at every instant: cursors, own writes, isolation, no 5xx. */
async function checkRunning(world: World): Promise<void> {
  world.checkServerErrors();
  await world.checkViolations();
  for (const device of world.devices) {
    if (!device.engine || device.engine.driver.armed) continue;
    await checkCursor(device, world.server.storage);
    for (const type of typesOf(world)) {
      const records = await deviceRecords(device, type);
      checkIsolation(
        device.name,
        device.user,
        [...records.values()].map((data) => JSON.parse(data).title),
      );
      checkOwnWrites(world, device, type, records);
    }
  }
}

/**
 * The device's own records of `type` (ids only it writes) show its latest write, whatever it
 * pulls: no pull, reset or change of `pullTypes` reverts or drops them.
 */
function checkOwnWrites(world: World, device: SimDevice, type: string, held: ReadonlyMap<string, string>): void {
  for (const index of [0, 1, 2, 3]) {
    const id = `p-${device.name}-${index}`;
    const want = world.model.get(modelKey(device.user, type, id));
    if (want === undefined) continue;
    const seen = held.get(id) ?? null;
    if (seen !== want)
      throw new InvariantError(`${device.name}'s own write ${typeLabel(type)}${id} = ${want} now reads ${seen}`);
  }
}

/** Everyone online and running, no faults; sync round-robin until a round moves nothing. */
async function heal(world: World): Promise<void> {
  world.network.faults = healed(world.faults);
  world.trace.add('--- healing: no faults, every device running and online ---');
  for (const device of world.devices) {
    device.engine?.driver.armKill(-1);
    if (!device.engine) await world.clock.drive(device.open(), `${device.name} reopen`);
    device.setOnline(true);
  }
  for (let round = 0; ; round++) {
    if (round === 12) throw new InvariantError('devices did not settle within 12 sync rounds after healing');
    let moved = 0;
    for (const device of world.devices) {
      // Convergence holds once every parked conflict is resolved: the user empties the inbox.
      moved += await resolveParked(world, device, Number.POSITIVE_INFINITY);
      const sync = device.engine!.manager.performFullSync();
      const result = await world.clock.drive(sync, `${device.name} sync`).catch((error: unknown) => {
        // An expired token fails one sync; the transport asks for a fresh token on the next.
        if (!(error instanceof SyncError && error.code === SyncErrorCode.AUTH_ERROR)) throw error;
        world.trace.add(`${device.name}: sync refused (token expired); syncing again with a refreshed token`);
        return null;
      });
      const step = result ? result.push.totalChanges + result.pull.totalChanges : 1;
      // Late rounds that still move name what moves: a sync that never settles shows in the trace.
      if (step > 0 && round >= 3)
        world.trace.add(`${device.name}: healing round ${round} moved ${JSON.stringify(result)}`);
      // A sync the online signal started in the background may have parked a conflict after the
      // user looked at the inbox: the next round lets them resolve it.
      moved += step + (await parkedCount(device));
    }
    if (moved === 0) break;
  }
  const before = new Map(world.network.requests);
  await world.clock.advance(IDLE_MINUTES * 60_000);
  for (const device of world.devices) {
    const idle = (world.network.requests.get(device.name) ?? 0) - (before.get(device.name) ?? 0);
    if (idle > IDLE_MINUTES * IDLE_REQUESTS_PER_MINUTE) {
      throw new InvariantError(
        `${device.name} sent ${idle} requests in ${IDLE_MINUTES} idle minutes: a sync loop spins`,
      );
    }
  }
}

/** Convergence, no lost or doubled write, drained outboxes, exact cursors, isolation. */
async function checkQuiescent(world: World): Promise<void> {
  world.checkServerErrors();
  await world.checkViolations();
  const storage = world.server.storage;
  const dead = await deadWrites(world.devices);
  for (const user of world.users) {
    const log = await checkServerLog(storage, user, world.ledger);
    const records = await serverRecords(storage, user);
    /** type → id → canonical data of the user's live records. */
    const live = new Map<string, Map<string, string>>(typesOf(world).map((type) => [type, new Map()]));
    for (const record of records.values()) {
      const ofType = live.get(record.entityType);
      if (!ofType || record.deleted) continue;
      // A REST create keeps `id` among the fields; an app sees the entity id there either way.
      const { id: _id, ...data } = record.data ?? {};
      ofType.set(record.entityId, canonical(data));
    }
    for (const [type, ofType] of live) {
      checkIsolation(
        'the server',
        user,
        [...ofType.values()].map((data) => JSON.parse(data).title),
      );
      for (const [key, want] of world.model) {
        const [owner, ofModel, id] = key.split('/') as [string, string, string];
        if (owner !== user || ofModel !== type) continue;
        const onServer = ofType.get(id) ?? null;
        if (onServer !== want) {
          throw new InvariantError(
            `${user}'s write ${typeLabel(type)}${id} = ${want} was lost: the server holds ${onServer}`,
          );
        }
      }
    }
    const serverSeq = await storage.currentSeq(user);
    for (const device of world.devices.filter((d) => d.user === user)) {
      await checkDrained(device);
      const parked = await parkedCount(device);
      if (parked > 0) throw new InvariantError(`${device.name} still has ${parked} parked conflicts after healing`);
      const cursor = await checkCursor(device, storage);
      checkCaughtUp(`${device.name}'s cursor`, cursor, serverSeq, records, device.pullTypes);
      for (const [type, ofType] of live) {
        const held = await deviceRecords(device, type);
        if (pulls(device.pullTypes, type)) {
          // Exactly the server's live records of every type it pulls: none missing, none the server deleted.
          for (const id of new Set([...held.keys(), ...ofType.keys()])) {
            if (held.get(id) !== ofType.get(id)) {
              throw new InvariantError(
                `${device.name} diverged on ${typeLabel(type)}${id}: device ${held.get(id) ?? 'absent'}, server ${ofType.get(id) ?? 'absent'}`,
              );
            }
          }
        } else {
          // A type it does not pull is never refreshed, but its own writes stay as it made them.
          checkOwnWrites(world, device, type, held);
        }
      }
    }
    // After the outbox checks: a change still queued is the more precise story.
    const lost = world.shared.lost(user, log, dead.writes);
    if (lost) {
      throw new InvariantError(
        `${lost.device}'s write of ${typeLabel(lost.entityType)}${lost.entityId} (${lost.title ?? 'delete'}) was lost: it never reached the server and no conflict decision on ${lost.device} replaced it`,
      );
    }
  }
  if (world.sharing) await checkSharingQuiescent(world, world.sharing, dead);
}

/** The sharing invariants (a)-(e) at quiescence (see sim/sharingInvariants.ts). */
async function checkSharingQuiescent(
  world: World,
  sharing: Sharing,
  dead: Awaited<ReturnType<typeof deadWrites>>,
): Promise<void> {
  const storage = world.server.storage;
  const logged = new Set<string>();
  for (const space of sharing.members.keys()) {
    const log = await checkServerLog(storage, space, world.ledger, '(d) ');
    for (const change of log) logged.add(`${space}/${change.id}`);
    checkSpaceAuthorization(space, log, (clientId) => world.userOfClient(clientId));
    const lost = world.shared.lost(space, log, dead.writes);
    if (lost) {
      throw new InvariantError(
        `(d) ${lost.device}'s write of ${typeLabel(lost.entityType)}${lost.entityId} in ${space} (${lost.title ?? 'delete'}) was lost: it is not on the server, not in ${lost.device}'s dead letters, and no conflict decision on ${lost.device} replaced it`,
      );
    }
  }
  for (const user of world.users) {
    const served = (await storage.memberships(user)).map((space) => `${space.id}:${space.role}`).sort();
    const model = sharing
      .spacesOf(user)
      .map((space) => `${space}:${sharing.roleOf(space, user)}`)
      .sort();
    if (served.join(' ') !== model.join(' ')) {
      throw new InvariantError(
        `${user}'s membership on the server [${served.join(' ')}] is not what the applied changes made it [${model.join(' ')}]`,
      );
    }
  }
  for (const device of world.devices) await checkDeviceSpaces(device, storage, sharing);
  // Only changes in shared spaces are ever refused as FORBIDDEN: their logs are all in `logged`.
  checkRefusalsVisible(world.ledger, dead.ids, logged);
}
