import {
  type Change,
  type ChangeResult,
  compareVersions,
  dominates,
  type HybridLogicalClock,
  jsonEqual,
  type ServerRecord,
} from '@ferry/protocol';
import { applyServerRecord, type DetectedConflict, observeStamp } from '../conflicts/reconcile.js';
import { SyncError } from '../errors.js';
import type { StoreTx } from '../store/StoreTx.js';
import type { ChangeTracker } from '../tracking/ChangeTracker.js';
import type { PushChangeResult, PushResult } from './PushSyncStrategy.js';
import { forgetRefusedWrite } from './pullSpaces.js';

/**
 * Settles one batch's results in one local transaction; returns the conflicts to resolve
 * (after the transaction). `summary` is updated in place.
 */
export async function settleBatch(
  tracker: ChangeTracker,
  changes: Change[],
  results: ChangeResult[],
  summary: PushResult,
  now: () => number,
): Promise<DetectedConflict[]> {
  const conflicts: DetectedConflict[] = [];
  const clock = tracker.clock;
  await tracker.store.write(async (tx) => {
    // Pending changes are not prefetched: an acknowledged change whose state the device
    // holds (the common case) needs none, and the general path reads its own.
    await tx.prefetch(changes, { pending: false });
    for (const [index, result] of results.entries()) {
      const change = changes[index]!;
      if (result.changeId !== change.id) {
        throw new SyncError('PROTOCOL_ERROR', `Result ${index} is for ${result.changeId}, expected ${change.id}`);
      }
      const entry: PushChangeResult = { changeId: change.id, success: false, status: result.status };
      if (result.status === 'applied' || result.status === 'duplicate') {
        await tx.removeChange(change.id);
        if (result.record) await settleAcknowledged(tx, result.record, clock, change.space);
        entry.success = true;
        summary.successful++;
      } else if (result.status === 'conflict' && result.record) {
        const conflict = await applyServerRecord(tx, result.record, clock, change.space);
        if (conflict) conflicts.push(conflict);
        else if (dominates(result.record.vector, change.vector)) {
          // The server's state already counts this change's own increment: the change (a
          // retry of it) or a resolution that replaced it went through. Sending it again
          // would be answered "conflict" forever.
          await tx.removeChange(change.id);
        }
        summary.conflicts++;
      } else {
        const error = result.error ?? {
          code: 'UNKNOWN_ERROR',
          message: 'Rejected without a reason',
          retryable: false,
        };
        entry.error = error;
        summary.failed++;
        if (error.retryable) {
          await tx.recordAttempt(change.id, `${error.code}: ${error.message}`);
        } else {
          await tx.addDeadLetter(change, error, now());
          await tx.removeChange(change.id);
          if (error.code === 'FORBIDDEN') await forgetRefusedWrite(tx, change);
        }
      }
      summary.results.push(entry);
    }
  });
  return conflicts;
}

/**
 * Folds an acknowledged change's server record into the store. The common case is that the
 * device already holds exactly that state (the record is the change it sent): then only the
 * server's version is recorded — what `applyServerRecord` would write, without re-reading the
 * pending changes or re-serialising the row. Anything else takes the general path.
 */
async function settleAcknowledged(
  tx: StoreTx,
  record: ServerRecord,
  clock: HybridLogicalClock,
  space: string | undefined,
): Promise<void> {
  const local = await tx.getEntity(record.entityType, record.entityId);
  if (
    local &&
    local.hlc === record.hlc &&
    local.deleted === record.deleted &&
    compareVersions(record.vector, local.vector) === 'equal' &&
    jsonEqual(local.data, record.deleted ? null : record.data) &&
    jsonEqual(local.fieldHlcs, record.fieldHlcs)
  ) {
    observeStamp(clock, record.hlc);
    const version = Math.max(local.version, record.version);
    if (version !== local.version || record.version !== local.serverVersion) {
      await tx.setServerVersion(record.entityType, record.entityId, version, record.version);
    }
    return;
  }
  await applyServerRecord(tx, record, clock, space);
}
