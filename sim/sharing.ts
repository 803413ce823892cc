import { MEMBER_TYPE, memberUser, type Role, SPACE_TYPE } from '@ferry/protocol';
import { typeLabel } from './invariants.js';
import type { PushedChange } from './ledger.js';
import { write } from './ops.js';
import { Prng } from './prng.js';
import type { SimDevice } from './simDevice.js';
import type { World } from './world.js';

/** The users of a world that shares: 2-4 of them, drawn per seed. */
export const SHARING_USERS = ['alice', 'bob', 'carol', 'dave'] as const;

const ROLES: readonly Role[] = ['owner', 'editor', 'viewer'];
/** Spaces a world creates at most. */
const MAX_SPACES = 4;
/** Todo ids per shared space (several users' devices write the same ones: conflicts). */
const SPACE_TODO_IDS = 4;

/** What a world's sharing did, to prove the regime ran (`stats.sharing` of a seed). */
export interface SharingStats {
  spaces: number;
  grants: number;
  roleChanges: number;
  removals: number;
  leaves: number;
  /** Writes into shared spaces the apps saw committed (viewers' and non-members' included). */
  writes: number;
  /** Writes made where the server's membership says the writer may not write. */
  attempts: number;
  /** Owner operations tried by someone who is not an owner. */
  managedByOthers: number;
}

/**
 * The sharing regime (on by default; `FERRY_SIM_SHARING=0` turns it off). Its choices come
 * from a stream of their own, so a world without sharing is exactly the world it always was
 * (the seeds kept in test/sim/regressions.test.ts replay as they failed).
 *
 * It also keeps the simulator's own model of every space's membership, built from the server's
 * `applied` answers in commit order (the network sees each one as the server produces it):
 * the invariants judge devices and the server against this model, not against the server's
 * own membership tables.
 */
export class Sharing {
  readonly rng: Prng;
  /** Chance per op of a sharing step (drawn per seed). */
  readonly rate: number;
  /** Users of the world. */
  readonly users: readonly string[];
  /** Space ids the apps created (in order), whether or not the server has them yet. */
  readonly spaces: string[] = [];
  /** space → user → role, as the server's applied changes made it. */
  readonly members = new Map<string, Map<string, Role>>();
  readonly stats: SharingStats = {
    spaces: 0,
    grants: 0,
    roleChanges: 0,
    removals: 0,
    leaves: 0,
    writes: 0,
    attempts: 0,
    managedByOthers: 0,
  };

  constructor(seed: number, clients: number) {
    // A stream apart from the world's (seed mixed so it is not the world's own).
    this.rng = new Prng((seed ^ 0x5a5a5a5) + 7);
    this.rate = 0.15 + this.rng.next() * 0.3;
    this.users = SHARING_USERS.slice(0, this.rng.int(2, Math.max(2, Math.min(SHARING_USERS.length, clients))));
  }

  /**
   * A change the server applied: membership changes update the model. A space's changes are
   * taken in the order of the space's sequence, whatever order their answers were heard in: in a
   * burst, a push writing several spaces commits them in successive groups, so answers heard
   * one push after another can hold a space's changes out of their commit order. The seq is the
   * prediction the product promises: membership changes apply over the current state and two
   * changes of one member's role are settled by commit order (docs/sharing.md), whatever the
   * changing device believed the roster was.
   */
  applied(user: string, change: PushedChange, seq?: number): void {
    const space = change.space;
    if (!space) return;
    if (change.entityType === SPACE_TYPE && change.operation === 'CREATE' && !this.members.has(space)) {
      this.members.set(space, new Map([[user, 'owner']]));
      if (seq !== undefined) this.#decidedAt.set(`${space}\u0000${user}`, seq);
    } else if (change.entityType === MEMBER_TYPE) {
      const member = memberUser(space, change.entityId);
      const roles = this.members.get(space);
      if (member === null || !roles) return;
      const key = `${space}\u0000${member}`;
      if (seq !== undefined) {
        if ((this.#decidedAt.get(key) ?? 0) > seq) return;
        this.#decidedAt.set(key, seq);
      }
      const role = change.data?.role;
      if (change.operation === 'DELETE') roles.delete(member);
      else if (role === 'owner' || role === 'editor' || role === 'viewer') roles.set(member, role);
    }
  }

  /** `space\0user` → the space's seq of the change that last decided the user's role. */
  readonly #decidedAt = new Map<string, number>();

  /** The user's role in a space per the model, or null. */
  roleOf(space: string, user: string): Role | null {
    return this.members.get(space)?.get(user) ?? null;
  }

  /** The spaces the user is a member of per the model. */
  spacesOf(user: string): string[] {
    return [...this.members].filter(([, roles]) => roles.has(user)).map(([space]) => space);
  }
}

/**
 * One sharing step by a running device's user: create a space, grant or change a role,
 * remove a member, leave, or write into a shared space. Mostly what the user may do (an
 * owner managing, a member writing); sometimes what they may not (a viewer or non-member
 * writing, a non-owner managing), which the server must refuse per change as FORBIDDEN.
 */
export async function performSharingOp(world: World, sharing: Sharing, op: number): Promise<void> {
  const { rng } = sharing;
  const running = world.devices.filter((device) => device.engine);
  if (running.length === 0) return;
  const device = rng.pick(running);
  const user = device.user;
  const owned = sharing.spaces.filter((space) => sharing.roleOf(space, user) === 'owner');
  const joined = sharing.spaces.filter((space) => sharing.roleOf(space, user) !== null);
  const roll = rng.next();
  if (sharing.spaces.length === 0 || (roll < 0.08 && sharing.spaces.length < MAX_SPACES)) {
    await create(world, sharing, device, op);
  } else if (roll < 0.35) {
    const space = owned.length > 0 && rng.chance(0.85) ? rng.pick(owned) : rng.pick(sharing.spaces);
    const others = sharing.users.filter((other) => other !== user);
    await grant(world, sharing, device, space, rng.pick(others), rng.pick(ROLES));
  } else if (roll < 0.45) {
    const space = owned.length > 0 && rng.chance(0.85) ? rng.pick(owned) : rng.pick(sharing.spaces);
    const members = [...(sharing.members.get(space)?.keys() ?? [])].filter((member) => member !== user);
    await remove(world, sharing, device, space, members.length > 0 ? rng.pick(members) : rng.pick(sharing.users));
  } else if (roll < 0.5 && joined.length > 0) {
    const space = rng.pick(joined);
    sharing.stats.leaves++;
    world.trace.add(`${device.name}: ${user} leaves ${space}`);
    await world.app(device, () => device.engine!.spaces.leave(space));
  } else {
    // Mostly a space the user belongs to (viewers try too); now and then any space at all.
    const space = joined.length > 0 && rng.chance(0.8) ? rng.pick(joined) : rng.pick(sharing.spaces);
    const id = `t${rng.int(0, SPACE_TODO_IDS - 1)}-${space.slice(3, 11)}`;
    // The partial-sync regime's own stream: with it off, the world draws what it always did.
    const type = world.partial?.typeOfWrite() ?? 'todos';
    const role = sharing.roleOf(space, user);
    if (role !== 'owner' && role !== 'editor') sharing.stats.attempts++;
    world.trace.add(`${device.name}: ${user} (${role ?? 'not a member'}) writes ${typeLabel(type)}${id} in ${space}`);
    if (await write(world, device, op, { type, id, space, scope: space })) sharing.stats.writes++;
  }
}

async function create(world: World, sharing: Sharing, device: SimDevice, op: number): Promise<void> {
  const done = await world.app(device, () => device.engine!.spaces.create({ name: `space ${op}` }));
  if (done.killed) return;
  sharing.spaces.push(done.value.id);
  sharing.stats.spaces++;
  world.trace.add(`${device.name}: ${device.user} creates ${done.value.id}`);
}

async function grant(world: World, sharing: Sharing, device: SimDevice, space: string, user: string, role: Role) {
  const current = sharing.roleOf(space, user);
  if (current === null) sharing.stats.grants++;
  else sharing.stats.roleChanges++;
  if (sharing.roleOf(space, device.user) !== 'owner') sharing.stats.managedByOthers++;
  world.trace.add(`${device.name}: ${device.user} makes ${user} ${role} of ${space} (was ${current ?? 'none'})`);
  await world.app(device, () => device.engine!.spaces.addMember(space, user, role));
}

async function remove(world: World, sharing: Sharing, device: SimDevice, space: string, user: string) {
  sharing.stats.removals++;
  if (sharing.roleOf(space, device.user) !== 'owner') sharing.stats.managedByOthers++;
  world.trace.add(`${device.name}: ${device.user} removes ${user} from ${space}`);
  await world.app(device, () => device.engine!.spaces.removeMember(space, user));
}
