import { type Change, LIMITS, type Membership, type ServerRecord, SPACE_TYPE, type SpacePage } from '@ferry/protocol';
import { allParked, markServerSideDeleted } from '../conflicts/parkedConflicts.js';
import { applyServerRecords, type DetectedConflict } from '../conflicts/reconcile.js';
import { type ConflictResolverLike, resolveConflicts } from '../conflicts/resolveConflicts.js';
import { SyncError } from '../errors.js';
import type { LocalStore } from '../store/LocalStore.js';
import type { StoreTx } from '../store/StoreTx.js';
import type { ChangeTracker } from '../tracking/ChangeTracker.js';
import { keepCountersOf } from '../tracking/ownCounter.js';
import type { SyncTransport } from '../transport/RemoteAPI.js';

/** Where each shared space's cursor is kept: one key per space, written with the page it follows. */
export const SPACE_CURSOR_PREFIX = 'ferry:space-cursor:';
/**
 * Marks a space whose snapshot (a backfill or a reset from 0) is longer than a page: its
 * cursor continues that snapshot, and the value is the compaction horizon it began under.
 */
export const SNAPSHOT_PREFIX = 'ferry:space-snapshot:';
/** The membership list the server sent last (JSON `Membership[]`). */
export const MEMBERSHIP_KEY = 'ferry:spaces';
/**
 * The entity types the saved space cursors were pulled with (`pullTypes`, sorted, joined by
 * commas; empty for every type). A cursor belongs to the types it was pulled with: when they
 * change, every space is pulled again from 0.
 */
export const SPACE_TYPES_KEY = 'ferry:space-cursor-types';
/** Marks a space this device created, until a membership list confirms it. */
export const CREATED_PREFIX = 'ferry:space-created:';

/** Summary of {@link pullSpaces}. */
export interface SpacesPullResult {
  pages: number;
  totalChanges: number;
  conflicts: number;
  /** The user's spaces as the server listed them. */
  membership: Membership[];
  /** Spaces removed from this device because the user is no longer a member. */
  purged: string[];
}

/** Options of {@link pullSpaces}. */
export interface SpacesPullOptions {
  signal?: AbortSignal | undefined;
  /** Records per answer (default `LIMITS.defaultPullLimit`), within what the server takes (`ServerRules.pullLimit`). */
  pageSize?: number | undefined;
  conflictResolver?: ConflictResolverLike | undefined;
  now?: () => number;
  /**
   * The private space's cursor, sent in the first request's checkpoint so that one request
   * serves every space (an idle sync is that one request). The answer's private page, if any,
   * goes to `apply` before the shared spaces' pages; the caller pulls the rest of it.
   */
  private?: { cursor: number; apply(page: SpacePage): Promise<void> } | undefined;
  /**
   * Partial sync (`pullTypes`): only records of these types. The server always adds the
   * spaces' own `$space` and `$member` records, which the device needs to list spaces and members.
   */
  types?: readonly string[] | undefined;
}

/** Upper bound on requests per pull, so a misbehaving server cannot spin the client forever. */
const MAX_ROUNDS = 1_000_000;

/** Every shared space's saved cursor. */
export async function readSpaceCursors(tx: StoreTx): Promise<Record<string, number>> {
  return readNumbers(tx, SPACE_CURSOR_PREFIX);
}

/** The kv entries under `prefix`, as `rest of the key → number`. */
async function readNumbers(tx: StoreTx, prefix: string): Promise<Record<string, number>> {
  const { rows } = await tx.execute('SELECT key, value FROM ferry_kv WHERE key LIKE ?', [`${prefix}%`]);
  const values: Record<string, number> = {};
  for (const row of rows) values[String(row.key).slice(prefix.length)] = Number(row.value);
  return values;
}

/**
 * The multi-space pull: ONE request per round for every shared space of the user (`POST
 * /v1/pull` with the device's checkpoint of per-space cursors), and in its first round the
 * private space too when `options.private` is given (an idle sync is then that one request). Each space's page and
 * its cursor commit in one local transaction, as the private pull's do. A space the server
 * lists that the device has no cursor for is pulled from 0 (backfill after a grant), the others
 * from where they were. Once the server has nothing more, a space the device holds that is no
 * longer in the membership list is purged (see {@link purgeRevokedSpaces}).
 *
 * Returns null when the transport cannot pull spaces (a custom `SyncTransport` without `pullSpaces`).
 */
export async function pullSpaces(
  api: SyncTransport,
  tracker: ChangeTracker,
  options: SpacesPullOptions = {},
): Promise<SpacesPullResult | null> {
  if (!api.pullSpaces) return null;
  const store = tracker.store;
  const pageSize = options.pageSize ?? LIMITS.defaultPullLimit;
  const result: SpacesPullResult = { pages: 0, totalChanges: 0, conflicts: 0, membership: [], purged: [] };
  const types = options.types ? [...options.types].sort() : undefined;
  await store.write((tx) => alignCursorsWithTypes(tx, types));
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const [cursors, snapshots] = await store.read(async (tx) =>
      Promise.all([readSpaceCursors(tx), readNumbers(tx, SNAPSHOT_PREFIX)]),
    );
    let response: Awaited<ReturnType<NonNullable<SyncTransport['pullSpaces']>>>;
    try {
      const own = round === 0 && options.private ? { private: options.private.cursor } : {};
      const going = Object.keys(snapshots);
      response = await api.pullSpaces(
        {
          ...own,
          spaces: cursors,
          // Read each round: the first request learns the server's config on its way out.
          limit: tracker.rules.pullLimit(pageSize),
          ...(types ? { types } : {}),
          ...(going.length > 0 ? { snapshots: going } : {}),
        },
        options.signal ? { signal: options.signal } : {},
      );
    } catch (error) {
      // A server from before spaces has no POST /v1/pull: the device syncs its private space only.
      if (error instanceof SyncError && error.serverCode === 'NOT_FOUND' && round === 0) return null;
      throw error;
    }
    const members = new Set(response.membership.map((space) => space.id));
    // Saved before the pages: a granted space being backfilled is listed with its real role. A
    // last answer without pages needs no transaction of its own: the purge below saves the list.
    if (response.pages.length > 0 || response.hasMore)
      await store.write((tx) => saveMembership(tx, response.membership));
    let progressed = false;
    for (const page of response.pages) {
      if (page.space === null && round === 0 && options.private) {
        await options.private.apply(page);
        progressed = true;
        continue;
      }
      // Only spaces the server lists now: a page of anything else is ignored, never applied.
      if (page.space === null || !members.has(page.space)) continue;
      const space = page.space;
      if (page.reset) {
        // The cursor is older than the space's history: start the space over from 0.
        await store.write((tx) => dropSpaceRecords(tx, space, tracker.clientId));
        progressed = true;
        continue;
      }
      const before = cursors[space] ?? 0;
      if (page.cursor < before || (page.hasMore && page.cursor === before)) {
        throw new SyncError(
          'PROTOCOL_ERROR',
          `The server's cursor of ${space} did not advance (${before} → ${page.cursor})`,
        );
      }
      const began = snapshots[space];
      if (began !== undefined && page.horizon !== undefined && page.horizon > began) {
        // History was compacted during the snapshot: a record an earlier page gave live may have
        // been deleted since, its tombstone gone. Start the space over from 0.
        await store.write((tx) => dropSpaceRecords(tx, space, tracker.clientId));
        progressed = true;
        continue;
      }
      progressed ||= page.cursor !== before || page.changes.length > 0;
      // A snapshot longer than a page (from 0) is continued as one until its last page.
      const snapshot = page.hasMore && (before === 0 || began !== undefined) ? (began ?? page.horizon ?? 0) : null;
      // A read from 0 starts by dropping what the device holds of the space: records written into
      // it since it was last dropped (the device's own pushes) are not named by the snapshot when
      // the server has deleted them and compaction removed the tombstones before it began.
      const fresh = before === 0 && began === undefined;
      const conflicts = await applySpacePage(tracker, space, page.changes, page.cursor, snapshot, fresh);
      result.pages++;
      result.totalChanges += page.changes.length;
      result.conflicts += conflicts.length;
      if (conflicts.length > 0 && options.conflictResolver) {
        await resolveConflicts(store, tracker, options.conflictResolver, conflicts);
      }
    }
    if (!response.hasMore) {
      result.membership = response.membership;
      result.purged = await purgeRevokedSpaces(store, response.membership, options.now ?? Date.now, tracker.clientId);
      return result;
    }
    if (!progressed)
      throw new SyncError('PROTOCOL_ERROR', 'The server said it has more spaces to pull but sent nothing new');
  }
  throw new SyncError('PROTOCOL_ERROR', 'The spaces pull did not end');
}

/**
 * Starts every space over when its cursor was pulled with other types than `types`: records of
 * a type just added to `pullTypes` lie behind those cursors, so each space is read again from 0.
 * Like every read from 0, its first page drops the space's unqueued records first (a record the
 * server deleted since the old cursor, its tombstone compacted, is not named by that read).
 */
async function alignCursorsWithTypes(tx: StoreTx, types: readonly string[] | undefined): Promise<void> {
  const wanted = types ? types.join(',') : '';
  const saved = (await tx.getKv(SPACE_TYPES_KEY)) ?? '';
  if (saved === wanted) return;
  await tx.execute('DELETE FROM ferry_kv WHERE key LIKE ? OR key LIKE ?', [
    `${SPACE_CURSOR_PREFIX}%`,
    `${SNAPSHOT_PREFIX}%`,
  ]);
  if (wanted === '') await tx.deleteKv(SPACE_TYPES_KEY);
  else await tx.setKv(SPACE_TYPES_KEY, wanted);
}

/**
 * Applies one space's page and moves its cursor, in one transaction. A record whose id the
 * device holds in another space is skipped: a member of a shared space must never be able to
 * overwrite a record of the user's private space (or of another space) by reusing its id.
 */
async function applySpacePage(
  tracker: ChangeTracker,
  space: string,
  changes: readonly ServerRecord[],
  cursor: number,
  /** The horizon a snapshot still going on began under; null once none is. */
  snapshot: number | null,
  /** The first page of a read from 0: the space's records without queued changes go first. */
  fresh: boolean,
): Promise<DetectedConflict[]> {
  const conflicts: DetectedConflict[] = [];
  await tracker.store.write(async (tx) => {
    if (fresh) await dropSpaceRecords(tx, space, tracker.clientId);
    await tracker.restoreClock(tx);
    const keys = JSON.stringify(changes.map((record) => [record.entityType, record.entityId]));
    const elsewhere = new Set<string>();
    if (changes.length > 0) {
      const { rows } = await tx.execute(
        `SELECT entity_type, entity_id FROM json_each(?) AS k CROSS JOIN ferry_entities
         WHERE entity_type = json_extract(k.value, '$[0]') AND entity_id = json_extract(k.value, '$[1]')
           AND space IS NOT ?`,
        [keys, space],
      );
      for (const row of rows) elsewhere.add(`${row.entity_type}\u0000${row.entity_id}`);
    }
    const records = changes.filter((record) => !elsewhere.has(`${record.entityType}\u0000${record.entityId}`));
    await tx.prefetch(records, { mostlyNew: true });
    conflicts.push(...(await applyServerRecords(tx, records, tracker.clock)));
    if (records.length > 0) {
      // Rows the page created carry no space yet; the ids are this space's (checked above).
      await tx.execute(
        `UPDATE ferry_entities SET space = ? WHERE space IS NULL AND (entity_type, entity_id) IN
           (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))`,
        [space, JSON.stringify(records.map((record) => [record.entityType, record.entityId]))],
      );
    }
    await tx.setKv(`${SPACE_CURSOR_PREFIX}${space}`, String(cursor));
    if (snapshot === null) await tx.deleteKv(`${SNAPSHOT_PREFIX}${space}`);
    else await tx.setKv(`${SNAPSHOT_PREFIX}${space}`, String(snapshot));
  });
  return conflicts;
}

/** A row no queued change of the device writes. */
const UNQUEUED = `NOT EXISTS (SELECT 1 FROM ferry_outbox o
  WHERE o.entity_type = ferry_entities.entity_type AND o.entity_id = ferry_entities.entity_id)`;

/**
 * Removes a space's records and cursor. Records with queued changes stay, with any conflict
 * parked on them: they carry the user's writes, and the pull that follows meets their server
 * state as any pull does (a dropped row would take the state those changes were made on, and
 * the server's answer to them could no longer be told from a stale copy).
 *
 * A conflict parked on a record that stays gets a deletion as its server side until a page of
 * the space names the record again (which refreshes the conflict, or settles it): the read from
 * 0 never names a record the server deleted once compaction has removed its tombstone, and
 * deciding for the server would otherwise bring back, on this device only, the state parked
 * before the server deleted it.
 */
async function dropSpaceRecords(tx: StoreTx, space: string, clientId: string): Promise<void> {
  for (const { parked } of await allParked(tx)) {
    const { entityType, entityId } = parked.record;
    if ((await tx.getEntity(entityType, entityId))?.space === space) await markServerSideDeleted(tx, parked);
  }
  const { rows } = await tx.execute(`SELECT DISTINCT entity_type FROM ferry_entities WHERE space = ? AND ${UNQUEUED}`, [
    space,
  ]);
  const { rows: vectors } = await tx.execute(`SELECT vector FROM ferry_entities WHERE space = ? AND ${UNQUEUED}`, [
    space,
  ]);
  await keepCountersOf(
    tx,
    vectors.map((row) => JSON.parse(String(row.vector))),
    clientId,
  );
  await tx.execute(
    `DELETE FROM ferry_conflicts WHERE EXISTS (SELECT 1 FROM ferry_entities WHERE space = ? AND ${UNQUEUED}
       AND ferry_entities.entity_type = ferry_conflicts.entity_type AND ferry_entities.entity_id = ferry_conflicts.entity_id)`,
    [space],
  );
  await tx.execute(`DELETE FROM ferry_entities WHERE space = ? AND ${UNQUEUED}`, [space]);
  await tx.deleteKv(`${SPACE_CURSOR_PREFIX}${space}`);
  await tx.deleteKv(`${SNAPSHOT_PREFIX}${space}`);
  for (const row of rows) tx.touchedTypes.add(String(row.entity_type));
}

/** Keeps the server's membership list; space listeners hear of it only when it changed. */
async function saveMembership(tx: StoreTx, membership: readonly Membership[]): Promise<void> {
  const listed = JSON.stringify(membership);
  if ((await tx.getKv(MEMBERSHIP_KEY)) === listed) return;
  await tx.setKv(MEMBERSHIP_KEY, listed);
  for (const space of membership) await tx.deleteKv(`${CREATED_PREFIX}${space.id}`);
  tx.touchedTypes.add(SPACE_TYPE);
}

/**
 * Purge on revoke: every space the device holds (records, queued changes or a cursor) that is
 * not in `membership` is removed in ONE transaction: its records, parked conflicts and cursor
 * go, and its queued changes move to the dead letters with `FORBIDDEN`, visible to the app,
 * never silently dropped. A space whose creation is still queued is kept (the server has not
 * heard of it yet). The membership list is saved in the same transaction.
 */
export async function purgeRevokedSpaces(
  store: LocalStore,
  membership: readonly Membership[],
  now: () => number,
  /** The device's client id: the own counters of the removed records are kept (ownCounter.ts). */
  clientId: string,
): Promise<string[]> {
  const members = new Set(membership.map((space) => space.id));
  return store.write(async (tx) => {
    const { rows } = await tx.execute(
      `SELECT space FROM ferry_entities WHERE space IS NOT NULL
       UNION SELECT space FROM ferry_outbox WHERE space IS NOT NULL
       UNION SELECT substr(key, ?) FROM ferry_kv WHERE key LIKE ?`,
      [SPACE_CURSOR_PREFIX.length + 1, `${SPACE_CURSOR_PREFIX}%`],
    );
    const outside = rows.map((row) => String(row.space)).filter((space) => !members.has(space));
    // Only when something lies outside the list (rare): spaces whose creation is still queued.
    const { rows: creating } =
      outside.length === 0
        ? { rows: [] }
        : await tx.execute(`SELECT entity_id FROM ferry_outbox WHERE entity_type = ? AND operation = 'CREATE'`, [
            SPACE_TYPE,
          ]);
    const pendingCreation = new Set(creating.map((row) => String(row.entity_id)));
    const revoked = outside.filter((space) => !pendingCreation.has(space));
    for (const space of revoked) {
      const pending = (await tx.pendingChanges(-1, true)).filter((entry) => entry.space === space);
      for (const entry of pending) {
        await tx.addDeadLetter(
          entry,
          {
            code: 'FORBIDDEN',
            message: `You are no longer a member of space ${space}; this change was not sent. Ask an owner to add you again`,
          },
          now(),
        );
        await tx.removeChange(entry.id);
      }
      await dropSpaceRecords(tx, space, clientId);
      await tx.deleteKv(`${CREATED_PREFIX}${space}`);
    }
    await saveMembership(tx, membership);
    if (revoked.length > 0) tx.touchedTypes.add(SPACE_TYPE);
    return revoked;
  });
}

/**
 * After the server refused a write in a shared space for good (`FORBIDDEN`: a viewer's edit, a
 * revoked member's), the device's copy of the record holds a state the server never took. The
 * space is read again from 0, as after a reset: its records and cursor go (queued changes stay
 * queued), and the pull that follows restores the server's state. Keeping the other records
 * would keep any the server deleted since, when compaction has removed their tombstones: a
 * snapshot from 0 does not name them.
 */
export async function forgetRefusedWrite(tx: StoreTx, change: Change): Promise<void> {
  if (!change.space) return;
  await dropSpaceRecords(tx, change.space, change.clientId);
}
