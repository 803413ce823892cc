import { SyncError, SyncErrorCode } from '@ferry/client';
import { PROTOCOL_VERSION, type RecordData } from '@ferry/protocol';
import { resolveParked } from './conflictInbox.js';
import { canonical, InvariantError, typeLabel } from './invariants.js';
import type { SimType } from './partialSync.js';
import type { SimDevice } from './simDevice.js';
import { modelKey, type World } from './world.js';

const TODO_IDS = 4;

/**
 * One step of a device's user or of the environment, chosen by the seed's PRNG with the
 * seed's fault rates. Writes dominate; faults come at the drawn rates.
 */
export async function performOp(world: World, op: number): Promise<void> {
  const { rng, faults, trace } = world;
  const device = rng.pick(world.devices);
  if (!device.engine) {
    if (rng.chance(0.4)) {
      trace.add(`${device.name}: app reopened`);
      await world.clock.drive(device.open(), `${device.name} reopen`);
    }
    return;
  }
  if (!device.isOnline() && rng.chance(0.25)) {
    trace.add(`${device.name}: back online`);
    device.setOnline(true);
  } else if (rng.chance(faults.offline)) {
    trace.add(`${device.name}: offline`);
    device.setOnline(false);
  } else if (rng.chance(faults.kill)) {
    world.kills++;
    if (rng.chance(0.5)) device.kill();
    else {
      const statements = rng.int(0, 40);
      trace.add(`${device.name}: kill armed at statement +${statements}`);
      device.armKill(statements);
    }
  } else if (rng.chance(faults.upgrade)) {
    trace.add(`${device.name}: app upgrade (close, new engine on the same file)`);
    // An armed kill would fire inside the graceful close; the upgrade is the fault here.
    device.armKill(-1);
    await world.clock.drive(device.close(), `${device.name} close`);
    await world.clock.drive(device.open(), `${device.name} reopen`);
  } else if (rng.chance(faults.tokenExpiry)) {
    // Often mid-push: the next request (perhaps a push's later batch) meets a 401.
    trace.add(`${device.name}: token expired`);
    device.expireToken();
  } else if (rng.chance(faults.compaction)) {
    await compact(world);
  } else if (rng.chance(faults.serverRestart)) {
    trace.add('server restart');
    await world.server.restart();
  } else if (rng.chance(0.03)) {
    await restWrite(world, device.user, op);
  } else if (rng.chance(0.05)) {
    // The user opens the conflict inbox (empty unless the device is on `manual`).
    await resolveParked(world, device, rng.int(1, 3));
  } else if (rng.chance(0.08)) {
    trace.add(`${device.name}: sync triggered (foreground)`);
    void device.engine.manager.triggerSync();
  } else {
    await write(world, device, op);
  }
}

type Todo = RecordData;

/**
 * History compaction of every tombstone written so far: a device whose cursor is older than
 * the newest removed tombstone gets 410 RESET_REQUIRED and re-syncs from a snapshot, outbox kept.
 */
async function compact(world: World): Promise<void> {
  const removed = await world.server.storage.compact({ tombstonesBefore: world.clock.wallNow() + 1 });
  world.compactions++;
  world.trace.add(`server compaction: ${removed.tombstones} tombstones removed`);
}

/** A write through the REST routes (an admin tool, a webhook), racing the devices' pushes. */
async function restWrite(world: World, user: string, op: number): Promise<void> {
  const id = `s${world.rng.int(0, TODO_IDS - 1)}`;
  const title = `${user}:server:${op}`;
  const headers = {
    authorization: `Bearer ${world.tokens.get(user)}`,
    'ferry-protocol': String(PROTOCOL_VERSION),
    'content-type': 'application/json',
  };
  const put = await world.server.handle(
    {
      method: 'PUT',
      url: `/v1/entities/todos/${id}`,
      headers,
      body: JSON.stringify({ title }),
    },
    user,
  );
  let status = put.status;
  if (status === 404) {
    const post = await world.server.handle(
      {
        method: 'POST',
        url: '/v1/entities/todos',
        headers,
        body: JSON.stringify({ id, title, completed: false }),
      },
      user,
    );
    status = post.status;
  }
  world.trace.add(`server REST write ${user}/${id} → ${status}`);
  if (status >= 300) throw new InvariantError(`a REST write of ${user}/${id} answered ${status}`);
}

/** The record a write goes to, and where its story is kept. */
export interface WriteTarget {
  /** Todos unless named; `notes` only with the partial-sync regime on. */
  type?: SimType;
  id: string;
  /** The shared space the todo lives in; absent for the private space. */
  space?: string;
  /** Whose writes these are: the user (private) or the space; null for a single-writer todo (the model). */
  scope: string | null;
}

/**
 * A private record: the device's own (one writer), or one every device of the user writes. The
 * same ids serve every type: a record is its type and id.
 */
function privateTarget(world: World, device: SimDevice): WriteTarget {
  const { rng } = world;
  const shared = rng.chance(world.faults.contention);
  const id = shared ? `s${rng.int(0, TODO_IDS - 1)}` : `p-${device.name}-${rng.int(0, TODO_IDS - 1)}`;
  // The partial-sync regime's own stream: with it off, the world draws what it always did.
  const type = world.partial?.typeOfWrite() ?? 'todos';
  return { type, id, scope: shared ? device.user : null };
}

/**
 * Inserts, updates or deletes one record (a todo, or a note) through the app, as its user would,
 * and checks the app reads back what it wrote. Returns whether the app saw the write committed.
 */
export async function write(
  world: World,
  device: SimDevice,
  op: number,
  target: WriteTarget = privateTarget(world, device),
): Promise<boolean> {
  const { rng } = world;
  const { type = 'todos', id, space, scope } = target;
  const collection = device.collection(type);
  const before = await world.app(device, () => collection.get(id));
  if (before.killed) return false;
  const { id: _id, ...current } = before.value ?? { id };
  const title = `${device.user}:${device.name}:${op}`;
  let expected: Todo | null;
  /** The fields an update names (undefined for an insert or a delete). */
  let patched: Todo | undefined;
  let call: () => Promise<unknown>;
  if (!before.value) {
    expected = { title, completed: rng.chance(0.5), order: rng.int(0, 99) };
    const data = expected;
    call = () => collection.insert({ id, ...data }, space ? { space } : {});
  } else if (rng.chance(0.2)) {
    expected = null;
    call = () => collection.delete(id);
  } else {
    const patch: Todo = { title };
    if (rng.chance(0.5)) patch.completed = rng.chance(0.5);
    if (rng.chance(0.5)) patch.order = rng.int(0, 99);
    expected = { ...current, ...patch };
    patched = patch;
    call = () => collection.update(id, patch);
  }
  world.trace.add(
    `${device.name}: ${before.value ? (expected ? 'update' : 'delete') : 'insert'} ${typeLabel(type)}${id}`,
  );
  const step = world.shared.tick();
  let done: Awaited<ReturnType<typeof world.app>>;
  try {
    done = await world.app(device, call);
  } catch (error) {
    if (await pulledMeanwhile(world, device, target, Boolean(before.value), error)) return false;
    throw error;
  }
  if (done.killed) return false;
  if (type === 'notes' && world.partial) world.partial.stats.notes++;
  if (scope !== null) {
    const write = { device: device.name, user: device.user, scope, entityType: type, entityId: id, step };
    world.shared.wrote({ ...write, title: expected && title });
  } else world.model.set(modelKey(device.user, type, id), expected === null ? null : canonical(expected));
  const after = await world.app(device, () => collection.get(id));
  if (after.killed) return true;
  const read = after.value ? (({ id: _, ...data }) => data)(after.value) : null;
  let want = expected === null ? null : canonical(expected);
  if (patched && read && scope !== null) {
    // An update names some fields and keeps the others as the device holds them when it runs. On
    // an entity other devices write, a pull may land between the app's read and its update (the
    // engine applies a page while the app awaits): the fields the update did not name then show
    // the pulled state, and the app's own write is the fields it named.
    want = canonical({ ...read, ...patched });
  }
  const seen = read ? canonical(read) : null;
  if (seen !== want)
    throw new InvariantError(`${device.name} wrote ${typeLabel(type)}${id} = ${want} but reads back ${seen}`);
  return true;
}

/**
 * Whether a write the app refused (an insert over a live record, an update of a missing one)
 * met a pull's change: on an entity other devices write, a pull may land between the app's
 * read and its write, creating or deleting the record. The app then gets the clear error the
 * collection gives and nothing is written, as for any user acting on a screen a sync just changed.
 */
async function pulledMeanwhile(
  world: World,
  device: SimDevice,
  target: WriteTarget,
  existed: boolean,
  error: unknown,
): Promise<boolean> {
  if (target.scope === null || !device.engine || !(error instanceof SyncError)) return false;
  if (error.code !== SyncErrorCode.VALIDATION_ERROR) return false;
  const collection = device.collection(target.type ?? 'todos');
  const now = await world.app(device, () => collection.get(target.id));
  if (now.killed || Boolean(now.value) === existed) return false;
  world.trace.add(
    `${device.name}: ${typeLabel(target.type ?? 'todos')}${target.id} was ${existed ? 'deleted' : 'created'} by a pull meanwhile; nothing written`,
  );
  return true;
}
