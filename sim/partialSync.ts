import { Prng } from './prng.js';
import type { SimDevice } from './simDevice.js';
import type { World } from './world.js';

/** The entity types the apps write: `notes` only with the partial-sync regime on. */
export const SIM_TYPES = ['todos', 'notes'] as const;
export type SimType = (typeof SIM_TYPES)[number];

/** A device's `pullTypes`: undefined pulls every type (no `types` on the wire). */
export type PullTypes = readonly SimType[] | undefined;

/**
 * The `pullTypes` a device may run with. Every type named explicitly is not the same as none:
 * its cursor is kept under another key, so a switch between the two is a change of types too.
 */
const CHOICES: readonly PullTypes[] = [undefined, ['todos'], ['notes'], ['notes', 'todos']];

/** What the regime did in a world (`stats.types` of a seed). */
export interface PartialSyncStats {
  /** Devices that started with a subset of the types or named them all. */
  partialDevices: number;
  /** Restarts with other `pullTypes`, by kind. */
  narrower: number;
  wider: number;
  toAll: number;
  /** Neither narrower nor wider (`todos` ↔ `notes`, or every type named ↔ none). */
  other: number;
  /** Restarts with other types while changes were queued. */
  withQueued: number;
  /** Writes to `notes` the apps saw committed. */
  notes: number;
}

/** Stats of a world before the regime did anything. */
export function noPartialSyncYet(): PartialSyncStats {
  return { partialDevices: 0, narrower: 0, wider: 0, toAll: 0, other: 0, withQueued: 0, notes: 0 };
}

/** The label of a device's types in traces. */
export function describeTypes(types: PullTypes): string {
  return types ? `[${types.join(',')}]` : 'all';
}

/** Whether a device running with `types` pulls records of `type`. */
export function pulls(types: PullTypes, type: string): boolean {
  return types === undefined || (types as readonly string[]).includes(type);
}

/** The kv key of the private cursor the engine keeps for `types` (see PullSyncStrategy). */
export function cursorKeyOf(types: PullTypes): string {
  return types ? `ferry:cursor:${[...types].sort().join(',')}` : 'ferry:cursor';
}

/**
 * The partial-sync regime (on by default; `FERRY_SIM_TYPES=0` turns it off): apps write `notes`
 * beside `todos` (private, contended and in shared spaces), devices start with a drawn
 * `pullTypes` (every type, a subset, or every type named), and now and then an app restarts with
 * other `pullTypes` (narrower, wider, back to all), gracefully or after a kill, with changes
 * queued or not. Every other fault runs meanwhile. Its draws come from a stream of their own, so
 * with it off a seed is exactly the world it was before.
 */
export class PartialSync {
  readonly rng: Prng;
  /** Share of writes that go to `notes` (drawn per seed). */
  readonly noteShare: number;
  /** Chance per op of a restart with other `pullTypes` (drawn per seed). */
  readonly changeRate: number;
  readonly stats: PartialSyncStats = noPartialSyncYet();

  constructor(seed: number) {
    // A stream apart from the world's and sharing's (seed mixed so it is neither).
    this.rng = new Prng((seed ^ 0x1e1e1e1) + 13);
    this.noteShare = 0.2 + this.rng.next() * 0.3;
    this.changeRate = 0.005 + this.rng.next() * 0.025;
  }

  /** A new device's `pullTypes`: every type half the time, else a subset or every type named. */
  initial(): PullTypes {
    const types = this.rng.chance(0.5) ? undefined : this.rng.pick(CHOICES.slice(1));
    if (types) this.stats.partialDevices++;
    return types;
  }

  /** The type of the next write. */
  typeOfWrite(): SimType {
    return this.rng.chance(this.noteShare) ? 'notes' : 'todos';
  }
}

/** Counts how `to` differs from `from`. */
function classify(stats: PartialSyncStats, from: PullTypes, to: PullTypes): string {
  const size = (types: PullTypes) => (types ? types.length : SIM_TYPES.length);
  if (to === undefined) {
    stats.toAll++;
    return 'back to all';
  }
  if (size(to) < size(from)) {
    stats.narrower++;
    return 'narrower';
  }
  if (size(to) > size(from)) {
    stats.wider++;
    return 'wider';
  }
  stats.other++;
  return 'other';
}

/**
 * An app update that changes `pullTypes`: the app closes (or is killed, half the time) and a new
 * version opens the same file with other types. A device whose app is not running now opens
 * with the new types whenever it next opens.
 */
export async function changePullTypes(world: World, partial: PartialSync): Promise<void> {
  const { rng } = partial;
  const device = rng.pick(world.devices);
  const from = device.pullTypes;
  const to = rng.pick(CHOICES.filter((types) => cursorKeyOf(types) !== cursorKeyOf(from)));
  const kind = classify(partial.stats, from, to);
  const queued = await queuedChanges(device);
  if (queued > 0) partial.stats.withQueued++;
  device.pullTypes = to;
  const how = device.engine ? (rng.chance(0.5) ? 'killed' : 'closed') : 'not running';
  world.trace.add(
    `${device.name}: pullTypes ${describeTypes(from)} → ${describeTypes(to)} (${kind}; app ${how}, ${queued} queued)`,
  );
  if (!device.engine) return;
  if (how === 'killed') {
    world.kills++;
    device.kill();
  } else {
    // An armed kill would fire inside the graceful close; the update is the fault here.
    device.armKill(-1);
    await world.clock.drive(device.close(), `${device.name} close`);
  }
  await world.clock.drive(device.open(), `${device.name} reopen`);
}

/** The changes the device's outbox holds (0 when its app is not running). */
async function queuedChanges(device: SimDevice): Promise<number> {
  const engine = device.engine;
  if (!engine || engine.driver.armed) return 0;
  return engine.driver.uncounted(() => engine.store.read((tx) => tx.countPending()));
}
