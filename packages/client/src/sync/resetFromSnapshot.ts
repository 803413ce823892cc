import { allParked, markServerSideDeleted } from '../conflicts/parkedConflicts.js';
import { SyncError } from '../errors.js';
import type { StoreTx } from '../store/StoreTx.js';

/**
 * Reset after server-side history compaction. When the saved cursor is older than the history
 * the server still keeps (410 `RESET_REQUIRED`), the pull restarts from cursor 0 (a snapshot of
 * every live record) and afterwards removes local entities the snapshot did not contain: the
 * server deleted them and has since forgotten the tombstone. The outbox is never touched, and
 * an entity with pending changes is kept, so no local write is lost.
 *
 * Crash safety: a kv flag marks the reset as running; a pull that finds it set starts again
 * from 0, so an app killed mid-reset finishes the reset on its next pull.
 */

/** Whether `error` is the server's answer to a cursor older than its history. */
export function isResetRequired(error: unknown): boolean {
  return error instanceof SyncError && error.serverCode === 'RESET_REQUIRED';
}

/** The kv key flagging a running reset of the cursor stored under `cursorKey`. */
export function resetFlagKey(cursorKey: string): string {
  return `${cursorKey}:reset`;
}

/** The key of an entity in the set of entities seen by a reset pull. */
export function entityKey(entityType: string, entityId: string): string {
  return JSON.stringify([entityType, entityId]);
}

/**
 * Turns synced entities of the private space (of `types`, or all) that the snapshot did not contain and that have
 * no pending change into tombstones (keeping their version vectors), then clears the reset
 * flag. Runs in the caller's transaction. Returns how many live entities it deleted.
 */
export async function sweepAfterReset(
  tx: StoreTx,
  seen: ReadonlySet<string>,
  types: readonly string[] | undefined,
  flagKey: string,
): Promise<number> {
  const { rows } = await tx.execute(
    // The private space's entities only: a shared space's are not in this snapshot (each space
    // resets on its own, see pullSpaces.ts).
    `SELECT entity_type, entity_id FROM ferry_entities e WHERE e.space IS NULL
       AND NOT EXISTS (SELECT 1 FROM ferry_outbox o WHERE o.entity_type = e.entity_type AND o.entity_id = e.entity_id)`,
  );
  let removed = 0;
  for (const row of rows) {
    const entityType = String(row.entity_type);
    const entityId = String(row.entity_id);
    if (types && !types.includes(entityType)) continue;
    if (seen.has(entityKey(entityType, entityId))) continue;
    // A tombstone, not a removal: its version vector must survive. Were the row dropped, a later
    // re-create of the id here would start its vector from scratch and look older than the
    // copies other devices still hold, which would then ignore it for good.
    const local = await tx.getEntity(entityType, entityId);
    if (!local || local.deleted) continue;
    await tx.putEntity({ ...local, data: null, deleted: true });
    removed++;
  }
  await markParkedDeleted(tx, seen, types);
  await tx.deleteKv(flagKey);
  return removed;
}

/**
 * A parked conflict whose entity the snapshot lacks keeps the entity (its held changes are
 * local writes), but its server side is now a deletion: the server deleted the entity and has
 * forgotten the tombstone. Deciding for the server must delete it, not bring back the state
 * that was parked.
 */
async function markParkedDeleted(tx: StoreTx, seen: ReadonlySet<string>, types: readonly string[] | undefined) {
  for (const { parked } of await allParked(tx)) {
    const { record } = parked;
    if (types && !types.includes(record.entityType)) continue;
    if (seen.has(entityKey(record.entityType, record.entityId))) continue;
    if ((await tx.getEntity(record.entityType, record.entityId))?.space) continue;
    await markServerSideDeleted(tx, parked);
  }
}
