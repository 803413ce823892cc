import { fieldClock, type RecordData } from '@ferry/protocol';
import { SyncError } from '../errors.js';
import { isDeletedState, isPatchState, type VersionedEntity } from './types.js';

/**
 * Collapses several states of ONE entity, oldest first (an outbox holding a CREATE and two
 * UPDATEs, or a change log), into the single state they add up to: patches applied in
 * order, a DELETE wiping what came before, the last write's `hlc`, `vector` and `clientId`.
 * Per-field stamps are kept, so a field-level merge still sees which write set each field;
 * they are left out when any folded write lacks an HLC (a guess would be worse than none).
 */
export function foldChanges(changes: readonly VersionedEntity[]): VersionedEntity {
  const first = changes[0];
  if (!first) throw new SyncError('VALIDATION_ERROR', 'foldChanges needs at least one change');
  if (changes.length === 1) return first;

  let data: RecordData | null = null;
  let deleted = false;
  let patch = false;
  const stamps = new Map<string, string>();
  let stamped = true;
  for (const change of changes) {
    if (change.entityType !== first.entityType || change.entityId !== first.entityId) {
      throw new SyncError(
        'VALIDATION_ERROR',
        `foldChanges got changes of ${change.entityType}/${change.entityId} and ${first.entityType}/${first.entityId}: fold one entity at a time`,
      );
    }
    if (change.hlc === undefined) stamped = false;
    if (isDeletedState(change)) {
      data = null;
      deleted = true;
      patch = false;
      stamps.clear();
      continue;
    }
    const written = change.data ?? {};
    if (isPatchState(change) && !deleted) {
      // A patch on a patch is still a patch; on a whole record it keeps the record whole.
      patch = data === null ? true : patch;
      data = { ...(data ?? {}), ...written };
    } else {
      // A whole record, or an UPDATE after a DELETE: nothing earlier survives.
      patch = isPatchState(change);
      data = { ...written };
      stamps.clear();
    }
    deleted = false;
    for (const field of Object.keys(written)) {
      const stamp = fieldClock(change, field).hlc;
      if (stamp !== undefined) stamps.set(field, stamp);
    }
  }

  const last = changes[changes.length - 1] as VersionedEntity;
  const folded: VersionedEntity = {
    entityType: first.entityType,
    entityId: first.entityId,
    data,
    deleted,
    timestamp: last.timestamp,
  };
  // A whole record keeps no operation: it may have been built from a CREATE or a server copy.
  if (deleted) folded.operation = 'DELETE';
  else if (patch) folded.operation = 'UPDATE';
  if (last.hlc !== undefined) folded.hlc = last.hlc;
  if (last.vector !== undefined) folded.vector = last.vector;
  if (last.clientId !== undefined) folded.clientId = last.clientId;
  if (stamped && !deleted) folded.fieldHlcs = Object.fromEntries(stamps);
  return folded;
}
