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
import { entityKey, type StoreTx } from '../store/StoreTx.js';
import { fieldHlcsColumn } from '../store/storeRows.js';
import type { ChangeTracker } from '../tracking/ChangeTracker.js';
import type { PushChangeResult, PushResult } from './PushSyncStrategy.js';
import { forgetRefusedWrite } from './pullSpaces.js';

/** Options of {@link settleBatch}. */
export interface SettleOptions {
  /**
   * Settle the acknowledgements that allow it together, in two statements for the batch (the
   * default). `false` settles every change alone: the reference the set-based path is tested
   * against.
   */
  setBased?: boolean;
}

/**
 * Settles one batch's results in one local transaction; returns the conflicts to resolve
 * (after the transaction). `summary` is updated in place.
 *
 * Results are settled in order, one by one, except the acknowledgements {@link asSentAcks}
 * picks: those go first, together, in two statements (their outbox rows deleted; their
 * entities' server versions recorded where the entity still holds exactly the acknowledged
 * state). They are picked so that no other result of the batch reads or writes what they
 * touch, which makes the order irrelevant; the clock and the summary still see every result
 * in order. An acknowledgement whose entity turns out to differ is settled alone, as before.
 */
export async function settleBatch(
  tracker: ChangeTracker,
  changes: Change[],
  results: ChangeResult[],
  summary: PushResult,
  now: () => number,
  options: SettleOptions = {},
): Promise<DetectedConflict[]> {
  const conflicts: DetectedConflict[] = [];
  const clock = tracker.clock;
  await tracker.store.write(async (tx) => {
    const asSent = options.setBased === false ? [] : asSentAcks(changes, results);
    // Acknowledged together: outbox rows gone, entities holding the acknowledged state updated.
    const settled = new Set<number>();
    if (asSent.length > 0) {
      const updated = await tx.setServerVersionsAsSent(
        asSent.map((index) => {
          const record = results[index]?.record as ServerRecord;
          const data = record.deleted ? null : record.data;
          const fieldHlcs = fieldHlcsColumn({ data, fieldHlcs: record.fieldHlcs, hlc: record.hlc });
          const { changeId, entityType, entityId, version } = record;
          return { changeId, entityType, entityId, version, fieldHlcs };
        }),
      );
      await tx.removeChanges(asSent.map((index) => (changes[index] as Change).id));
      for (const index of asSent) {
        const change = changes[index] as Change;
        if (updated.has(entityKey(change.entityType, change.entityId))) settled.add(index);
      }
    }
    const removed = new Set(asSent);
    // Pending changes are not prefetched: an acknowledged change whose state the device holds
    // (the common case) needs none, and the general path reads its own.
    await tx.prefetch(
      changes.filter((_, index) => !settled.has(index)),
      { pending: false },
    );
    for (const [index, result] of results.entries()) {
      const change = changes[index]!;
      if (result.changeId !== change.id) {
        throw new SyncError('PROTOCOL_ERROR', `Result ${index} is for ${result.changeId}, expected ${change.id}`);
      }
      const entry: PushChangeResult = { changeId: change.id, success: false, status: result.status };
      if (result.status === 'applied' || result.status === 'duplicate') {
        if (!removed.has(index)) await tx.removeChange(change.id);
        if (settled.has(index) && result.record) observeStamp(clock, result.record.hlc);
        else if (result.record) await settleAcknowledged(tx, result.record, clock, change.space);
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

/**
 * The acknowledgements of a batch that can be settled together, ahead of the others: an
 * `applied` or `duplicate` result whose record is the change's own state (the very objects, as a
 * compact acknowledgement rebuilds it: `recordFromChange`), for an entity no other change or
 * record of the batch names, so nothing settled in between reads or writes that entity. None
 * when the batch holds a `FORBIDDEN` refusal: forgetting a refused write drops a whole space's
 * records and pending changes, other entities' included.
 */
function asSentAcks(changes: readonly Change[], results: readonly ChangeResult[]): number[] {
  // How many times the batch names each entity: once per change, once more for a record of another entity.
  const keys: Array<string | undefined> = new Array(results.length);
  const named = new Map<string, number>();
  for (let index = 0; index < results.length; index++) {
    const result = results[index] as ChangeResult;
    if (result.status === 'rejected' && result.error?.code === 'FORBIDDEN') return [];
    const change = changes[index];
    const record = result.record;
    if (change) {
      const key = entityKey(change.entityType, change.entityId);
      keys[index] = key;
      named.set(key, (named.get(key) ?? 0) + 1);
    }
    if (record && (record.entityType !== change?.entityType || record.entityId !== change.entityId)) {
      const key = entityKey(record.entityType, record.entityId);
      named.set(key, (named.get(key) ?? 0) + 1);
    }
  }
  const picked: number[] = [];
  for (let index = 0; index < results.length; index++) {
    const result = results[index] as ChangeResult;
    const change = changes[index];
    const record = result.record;
    if (!change || !record || (result.status !== 'applied' && result.status !== 'duplicate')) continue;
    const deleted = change.operation === 'DELETE';
    if (
      named.get(keys[index] as string) === 1 &&
      result.changeId === change.id &&
      record.changeId === change.id &&
      record.entityType === change.entityType &&
      record.entityId === change.entityId &&
      record.hlc === change.hlc &&
      record.deleted === deleted &&
      record.vector === change.vector &&
      (deleted ? record.data === null && change.data === null : record.data === change.data)
    ) {
      picked.push(index);
    }
  }
  return picked;
}
