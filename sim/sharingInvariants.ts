import { MEMBER_TYPE, memberUser, type Role, SPACE_TYPE } from '@ferry/protocol';
import type { LoggedChange, ServerStorage } from '@ferry/server';
import { canonical, checkCaughtUp, InvariantError, serverRecords, typeLabel } from './invariants.js';
import type { DeadWrite, Ledger } from './ledger.js';
import { pulls, SIM_TYPES } from './partialSync.js';
import type { Sharing } from './sharing.js';
import type { SimDevice } from './simDevice.js';

/**
 * The sharing invariants, named as docs/testing.md lists them:
 *
 * (a) no device keeps a space's records after it has synced past its revocation;
 * (b) no change by a viewer or non-member is ever applied on the server;
 * (c) every member's devices converge per space (same records as the server's space state);
 * (d) no acknowledged write in a space is lost (the writer belonged to it when the server
 *     accepted it, or the server would not have);
 * (e) a change refused as FORBIDDEN is in the device's dead letters, never silently dropped.
 */
function fail(message: string): never {
  throw new InvariantError(message);
}

/** The spaces a device holds anything of, besides records its own queued changes wrote. */
export async function heldSpaces(device: SimDevice): Promise<Set<string>> {
  const engine = device.engine ?? fail(`${device.name} is not running`);
  const { rows } = await engine.driver.uncounted(() =>
    engine.store.read((tx) =>
      tx.execute(
        `SELECT DISTINCT space FROM ferry_entities e WHERE space IS NOT NULL AND NOT EXISTS
           (SELECT 1 FROM ferry_outbox o WHERE o.entity_type = e.entity_type AND o.entity_id = e.entity_id)
         AND NOT EXISTS (SELECT 1 FROM ferry_outbox o WHERE o.entity_type = ? AND o.entity_id = e.space)`,
        [SPACE_TYPE],
      ),
    ),
  );
  return new Set(rows.map((row) => String(row.space)));
}

/**
 * (a), checked when a sync goes through: the device holds nothing of a space its user was not
 * a member of (per the model) when the server answered the sync's last pull. Records its own
 * queued changes wrote are the device's, not the space's, until the server judges them.
 */
export async function checkPurged(device: SimDevice, members: ReadonlySet<string>): Promise<void> {
  for (const space of await heldSpaces(device)) {
    if (!members.has(space)) {
      fail(
        `(a) ${device.name} still holds records of ${space} after a sync whose last pull ${device.user} ` +
          'answered as a non-member of it (revoked, or never granted)',
      );
    }
  }
}

/**
 * (b) and the log's integrity for one shared space: the log is gap-free and deduplicated
 * (checked by the caller), and replaying it with the authorization table of docs/sharing.md
 * finds no change the author's role at that point did not allow. The author is the user of
 * the device (`clientId`) that made the change.
 */
export function checkSpaceAuthorization(
  space: string,
  log: readonly LoggedChange[],
  userOfClient: (clientId: string) => string | undefined,
): void {
  const roles = new Map<string, Role>();
  for (const [index, change] of log.entries()) {
    const author = userOfClient(change.clientId) ?? fail(`${space}'s log holds a change by unknown ${change.clientId}`);
    const role = roles.get(author) ?? null;
    let allowed: boolean;
    if (change.entityType === SPACE_TYPE) {
      allowed = change.operation === 'CREATE' ? index === 0 : role === 'owner';
      if (index === 0) roles.set(author, 'owner');
    } else if (change.entityType === MEMBER_TYPE) {
      const member = memberUser(space, change.entityId);
      allowed = role === 'owner' || (change.operation === 'DELETE' && member === author);
      if (member !== null && change.operation === 'DELETE') roles.delete(member);
      else if (member !== null) roles.set(member, change.data?.role as Role);
    } else {
      allowed = role === 'owner' || role === 'editor';
    }
    if (!allowed) {
      fail(
        `(b) ${author}'s change ${change.id} (${change.operation} ${change.entityType} ${change.entityId}) was ` +
          `applied in ${space} at seq ${change.seq} while ${author} was ${role ?? 'not a member'}`,
      );
    }
  }
}

/**
 * (c) and (a) at quiescence, for one device: its list of spaces is the server's (roles
 * included), it holds nothing of a space its user does not belong to, and for each space it
 * belongs to it holds exactly the server's live records of every type it pulls, and the space's
 * cursor (with partial sync, a cursor past every record of those types and the space's own).
 */
export async function checkDeviceSpaces(device: SimDevice, storage: ServerStorage, sharing: Sharing): Promise<void> {
  const engine = device.engine ?? fail(`${device.name} is not running`);
  const mine = sharing.spacesOf(device.user).sort();
  const listed = await engine.driver.uncounted(() => engine.spaces.list());
  const want = mine.map((space) => `${space}:${sharing.roleOf(space, device.user)}:false`).join(' ');
  const have = listed.map((space) => `${space.id}:${space.role}:${space.pending}`).join(' ');
  if (have !== want) fail(`(c) ${device.name} lists spaces [${have}], the server [${want}]`);
  for (const space of await heldSpaces(device)) {
    if (!mine.includes(space)) fail(`(a) ${device.name} still holds records of ${space} after healing`);
  }
  const types = SIM_TYPES.filter((type) => pulls(device.pullTypes, type));
  const docs = new Map<string, Awaited<ReturnType<typeof engine.store.find>>>();
  for (const type of types) docs.set(type, await engine.driver.uncounted(() => engine.store.find(type)));
  for (const space of mine) {
    const records = await serverRecords(storage, space);
    for (const type of types) {
      const onDevice = new Map(
        docs
          .get(type)!
          .filter((doc) => doc.space === space)
          .map(({ id, ...data }) => [id as string, canonical(data)]),
      );
      const onServer = new Map<string, string>();
      for (const record of records.values()) {
        if (record.entityType === type && !record.deleted) onServer.set(record.entityId, canonical(record.data));
      }
      for (const id of new Set([...onDevice.keys(), ...onServer.keys()])) {
        if (onDevice.get(id) !== onServer.get(id)) {
          fail(
            `(c) ${device.name} diverged on ${typeLabel(type)}${id} in ${space}: device ${onDevice.get(id) ?? 'absent'}, server ${onServer.get(id) ?? 'absent'}`,
          );
        }
      }
    }
    const cursor = Number(
      (await engine.driver.uncounted(() => engine.store.kv.getItem(`ferry:space-cursor:${space}`))) ?? 0,
    );
    const seq = await storage.currentSeq(space);
    checkCaughtUp(`(c) ${device.name}'s cursor of ${space}`, cursor, seq, records, device.pullTypes, [
      SPACE_TYPE,
      MEMBER_TYPE,
    ]);
  }
}

/** Every device's dead letters, as the lost-write check and (e) read them. */
export async function deadWrites(devices: readonly SimDevice[]): Promise<{ writes: DeadWrite[]; ids: Set<string> }> {
  const writes: DeadWrite[] = [];
  const ids = new Set<string>();
  for (const device of devices) {
    const engine = device.engine ?? fail(`${device.name} is not running`);
    const dead = await engine.driver.uncounted(() => engine.store.read((tx) => tx.deadLetters()));
    for (const { change } of dead) {
      ids.add(`${device.name}/${change.id}`);
      const title = (change.data as { title?: unknown } | null)?.title;
      writes.push({
        device: device.name,
        entityType: change.entityType,
        entityId: change.entityId,
        title: change.operation === 'DELETE' ? null : typeof title === 'string' ? title : '',
      });
    }
  }
  return { writes, ids };
}

/**
 * (e): every change refused as FORBIDDEN to a running app is in that device's dead letters,
 * or reached the server after all (the app died before recording the refusal, the owner
 * granted a role again, and the retry went through). A retry decided otherwise (applied, or a
 * conflict with a member's write of the same record) takes the change out of the ledger's
 * refusals, and so does a refusal the app died before recording while the reopened store still
 * queues the change (`Ledger.refusalsLostWith`): that change is judged by (d) like any write.
 */
export function checkRefusalsVisible(ledger: Ledger, deadIds: ReadonlySet<string>, logged: ReadonlySet<string>): void {
  for (const { device, scope, changeId } of ledger.forbidden.values()) {
    if (!deadIds.has(`${device}/${changeId}`) && !logged.has(`${scope}/${changeId}`)) {
      fail(`(e) ${device}'s change ${changeId} in ${scope} was refused as FORBIDDEN but is not in its dead letters`);
    }
  }
}
