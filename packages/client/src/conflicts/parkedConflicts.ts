/**
 * The rows of `ferry_conflicts`: one parked conflict per entity, keyed `type:id`, holding the
 * conflict as found and the server record it was found against. Every write of that table is
 * here, so the row's shape lives in one place; ConflictInbox reads it for the app.
 */
import type { ServerRecord } from '@ferry/protocol';
import type { StoreTx } from '../store/StoreTx.js';
import type { ConflictInfo } from './types.js';

/** A parked conflict as stored. */
export interface ParkedRow {
  info: ConflictInfo;
  record: ServerRecord;
}

/** Parks a conflict (or re-parks it with newer sides) and holds its entity's pending changes. */
export async function park(tx: StoreTx, parked: ParkedRow, now: number): Promise<void> {
  const { entityType, entityId } = parked.record;
  await tx.execute(
    `INSERT INTO ferry_conflicts (id, entity_type, entity_id, conflict, created_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET conflict = excluded.conflict, created_at = excluded.created_at`,
    [`${entityType}:${entityId}`, entityType, entityId, JSON.stringify(parked), now],
  );
  await tx.setHeld(entityType, entityId, true);
}

/** Gives an already parked conflict newer sides, keeping when it was parked. */
export async function refreshParked(tx: StoreTx, parked: ParkedRow): Promise<void> {
  const { entityType, entityId } = parked.record;
  await tx.execute('UPDATE ferry_conflicts SET conflict = ? WHERE entity_type = ? AND entity_id = ?', [
    JSON.stringify(parked),
    entityType,
    entityId,
  ]);
}

/**
 * Gives a parked conflict a deletion as its server side, keeping the record's vector: the
 * server deleted the entity and compaction forgot the tombstone, so deciding for the server
 * must delete it, not bring back the state that was parked.
 */
export async function markServerSideDeleted(tx: StoreTx, { info, record }: ParkedRow): Promise<void> {
  if (record.deleted) return;
  await refreshParked(tx, {
    info: { ...info, serverVersion: { ...info.serverVersion, deleted: true, data: null } },
    record: { ...record, deleted: true, data: null },
  });
}

/** Every parked conflict, with its row id. */
export async function allParked(tx: StoreTx): Promise<Array<{ id: string; parked: ParkedRow; createdAt: number }>> {
  const { rows } = await tx.execute('SELECT id, conflict, created_at FROM ferry_conflicts ORDER BY created_at, id');
  return rows.map((row) => ({
    id: String(row.id),
    parked: JSON.parse(String(row.conflict)) as ParkedRow,
    createdAt: Number(row.created_at),
  }));
}

/** One parked conflict by id, or null. */
export async function findParked(tx: StoreTx, id: string): Promise<ParkedRow | null> {
  const { rows } = await tx.execute('SELECT conflict FROM ferry_conflicts WHERE id = ?', [id]);
  return rows[0] ? (JSON.parse(String(rows[0].conflict)) as ParkedRow) : null;
}

/** Removes the entity's parked conflict, if any (its held changes are the caller's business). */
export async function dropParked(tx: StoreTx, entityType: string, entityId: string): Promise<void> {
  await tx.execute('DELETE FROM ferry_conflicts WHERE entity_type = ? AND entity_id = ?', [entityType, entityId]);
}

/** Ends the entity's parked conflict without a decision: the conflict is gone, its changes flow again. */
export async function settleParked(tx: StoreTx, entityType: string, entityId: string): Promise<void> {
  await dropParked(tx, entityType, entityId);
  await tx.setHeld(entityType, entityId, false);
}
