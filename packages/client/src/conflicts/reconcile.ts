/**
 * Where server state meets local state. Used by push (a result's record) and by pull (a
 * page's records); both decide with version vectors, never with wall clocks:
 *
 *   no pending local change  → adopt the server record (unless ours is strictly newer)
 *   server vector ⊒ local    → the server has seen our pending changes (a lost ack): adopt;
 *                              the pending changes will come back as duplicates
 *   local vector ⊐ server    → a stale record: keep ours, the push will bring it over
 *   concurrent               → a true conflict: resolved outside the transaction
 */
import {
  ClockDriftError,
  compareHlc,
  compareVersions,
  decodeHlc,
  type HybridLogicalClock,
  jsonEqual,
  mergeVersionVectors,
  type ServerRecord,
} from '@ferry/protocol';
import type { StoreTx } from '../store/StoreTx.js';
import type { LocalEntity } from '../store/types.js';
import type { ChangeTracker } from '../tracking/ChangeTracker.js';
import { keepDroppedCounter, nextVector } from '../tracking/ownCounter.js';
import { ConflictDetector, conflictTypeOf } from './ConflictDetector.js';
import { dropParked, park, refreshParked, settleParked } from './parkedConflicts.js';
import { stateFromRecord } from './stateFromRecord.js';
import type { ConflictInfo, Resolution, VersionedState } from './types.js';

/** A conflict found inside a transaction, to be resolved after it commits. */
export interface DetectedConflict {
  info: ConflictInfo;
  record: ServerRecord;
  /** The local state the conflict was detected on; a resolution applies only if it still holds. */
  localHlc: string;
  pendingIds: string[];
}

/** The local entity that mirrors a server record. */
export function entityFromRecord(record: ServerRecord, local: LocalEntity | null): LocalEntity {
  return {
    entityType: record.entityType,
    entityId: record.entityId,
    data: record.deleted ? null : record.data,
    deleted: record.deleted,
    version: Math.max(local?.version ?? 0, record.version),
    vector: record.vector,
    hlc: record.hlc,
    fieldHlcs: record.fieldHlcs,
    serverVersion: record.version,
  };
}

/**
 * Replaces the local entity by the server's record. When the record lacks part of this device's
 * own vector history, the dropped counter is kept so the device never issues it again.
 */
async function adopt(tx: StoreTx, record: ServerRecord, local: LocalEntity | null, clientId: string): Promise<void> {
  if (local) await keepDroppedCounter(tx, local.vector, record.vector, clientId);
  await tx.putEntity(entityFromRecord(record, local));
}

/** Folds a server stamp into the device clock; a stamp from a far-future clock is not adopted. */
export function observeStamp(clock: HybridLogicalClock, hlc: string): void {
  try {
    clock.observe(hlc);
  } catch (error) {
    if (!(error instanceof ClockDriftError)) throw error;
  }
}

/**
 * Applies one server record to the local store inside `tx`. Returns the conflict when the
 * record and the local pending changes are concurrent; the local state is then left as is.
 */
export async function applyServerRecord(
  tx: StoreTx,
  record: ServerRecord,
  clock: HybridLogicalClock,
  /** The shared space the record lives in, when the caller knows it (a push's answer). */
  space?: string,
): Promise<DetectedConflict | null> {
  observeStamp(clock, record.hlc);
  const local = await tx.getEntity(record.entityType, record.entityId);
  const pending = await tx.pendingFor(record.entityType, record.entityId);
  if (!local) {
    // A row the device no longer holds (a space reset or a refused write dropped it) comes back
    // in its space, never in the private space.
    await tx.putEntity({ ...entityFromRecord(record, null), ...(space ? { space } : {}) });
    return null;
  }
  const clientId = clock.node;
  const comparison = compareVersions(record.vector, local.vector);
  if (comparison === 'equal' || comparison === 'v1_newer') {
    // The server has seen everything this device has, held changes included: a conflict parked
    // on the entity is over (its server side is outdated), and its held changes go out to
    // settle as duplicates.
    if (pending.some((change) => change.held)) await settleParked(tx, record.entityType, record.entityId);
    await adopt(tx, record, local, clientId);
    return null;
  }
  if (comparison === 'v2_newer') {
    if (record.version > local.serverVersion) await tx.putEntity({ ...local, serverVersion: record.version });
    return null;
  }
  if (pending.length === 0) {
    // Concurrent with nothing pending: our copy holds an unpushed-but-dropped write (a dead
    // letter) or a resolution already superseded. The server is the authority.
    await adopt(tx, record, local, clientId);
    return null;
  }
  if (local.deleted && record.deleted) {
    // Delete-delete is no conflict: both sides agree the entity is gone. A conflict parked
    // earlier on this entity is settled too: resolving it later would bring back the stale
    // server state it holds, past a cursor that has already moved beyond this tombstone.
    for (const change of pending) await tx.removeChange(change.id);
    await dropParked(tx, record.entityType, record.entityId);
    await adopt(tx, record, local, clientId);
    return null;
  }
  const info = conflictInfo(local, record);
  if (pending.some((change) => change.held)) {
    // Parked already: its server side becomes this record now, in the transaction that moves
    // the cursor past it. Were the app killed before the resolver re-parks it, the inbox would
    // keep an older server state that no later pull brings again.
    await refreshParked(tx, { info, record });
  }
  return { info, record, localHlc: local.hlc, pendingIds: pending.map((change) => change.id) };
}

/**
 * Applies a page of server records inside `tx`, after `tx.prefetch(records)`: what
 * {@link applyServerRecord} does for each, in order, with the records the device does not
 * hold yet (all of them, on a first sync) inserted together in a few statements. Returns the
 * conflicts found, in page order.
 */
export async function applyServerRecords(
  tx: StoreTx,
  records: readonly ServerRecord[],
  clock: HybridLogicalClock,
): Promise<DetectedConflict[]> {
  const fresh: LocalEntity[] = [];
  const held: ServerRecord[] = [];
  for (const record of records) {
    // A new record needs no comparison: it is adopted as is (applyServerRecord's first case).
    if (tx.claimAbsent(record.entityType, record.entityId)) {
      observeStamp(clock, record.hlc);
      fresh.push(entityFromRecord(record, null));
    } else held.push(record);
  }
  // Inserted first: a later record of the same key in this page then finds the row.
  await tx.insertEntities(fresh);
  const conflicts: DetectedConflict[] = [];
  for (const record of held) {
    const conflict = await applyServerRecord(tx, record, clock);
    if (conflict) conflicts.push(conflict);
  }
  return conflicts;
}

const detector = new ConflictDetector();

/** The conflict, as `ConflictDetector` describes it (its field comparison, its types). */
function conflictInfo(local: LocalEntity, record: ServerRecord): ConflictInfo {
  const localVersion = stateOfEntity(local);
  const serverVersion = stateFromRecord(record);
  const detected = detector.detectConflict(
    { ...localVersion, entityType: local.entityType, entityId: local.entityId },
    serverVersion,
  );
  const conflictType = conflictTypeOf(local.deleted, record.deleted);
  // The caller has established the vectors are concurrent; the detector agrees unless the
  // states carry the same stamp, which only a replayed write can.
  return {
    entityType: local.entityType,
    entityId: local.entityId,
    localVersion,
    serverVersion,
    conflictType,
    conflictingFields: detected?.conflictingFields ?? [],
  };
}

/** A local entity as one side of a conflict (a whole state, not a patch). */
export function stateOfEntity(entity: LocalEntity, clientId?: string): VersionedState {
  const state: VersionedState = {
    data: entity.data,
    deleted: entity.deleted,
    hlc: entity.hlc,
    timestamp: decodeHlc(entity.hlc).wallTime,
    vector: entity.vector,
    fieldHlcs: entity.fieldHlcs,
    // No `operation`: these are whole states, not the patch an UPDATE change carries.
  };
  if (clientId !== undefined) state.clientId = clientId;
  return state;
}

/** Fields whose values differ between two records (as JSON, key order aside). */
export function differingFields(a: Record<string, unknown> | null, b: Record<string, unknown> | null): string[] {
  const fields = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
  return [...fields].filter((field) => !jsonEqual(a?.[field], b?.[field])).sort();
}

/** What applying a resolution did. */
export type ResolutionOutcome = 'adopted-server' | 'queued-local' | 'parked' | 'stale';

/**
 * Applies a resolution inside `tx`, if the local state is still the one the conflict was
 * found on (otherwise `stale`: the next push meets the conflict again, with fresh data).
 *
 * A local or merged winner becomes ONE new pending change carrying the whole resolved state
 * (CREATE replaces the record, DELETE removes it) with a vector that dominates both sides,
 * so the server applies it without another conflict. Its stamp is the winning write's, not
 * a new one, so a third device's later write still beats it.
 */
export async function applyResolution(
  tx: StoreTx,
  tracker: ChangeTracker,
  conflict: DetectedConflict,
  resolution: Resolution,
): Promise<ResolutionOutcome> {
  const { record } = conflict;
  const local = await tx.getEntity(record.entityType, record.entityId);
  const pending = await tx.pendingFor(record.entityType, record.entityId);
  const pendingIds = pending.map((change) => change.id);
  if (!local || local.hlc !== conflict.localHlc || pendingIds.join('\n') !== conflict.pendingIds.join('\n')) {
    return 'stale';
  }
  if (resolution.winner === 'deferred') {
    await park(tx, { info: conflict.info, record }, tracker.clock.physicalNow());
    return 'parked';
  }
  const resolvedDeleted = resolution.deleted;
  const resolvedData = resolvedDeleted ? null : (resolution.resolvedData ?? {});
  // Decided: an earlier parked conflict of this entity is settled with it, and its held changes go.
  await dropParked(tx, record.entityType, record.entityId);
  for (const id of pendingIds) await tx.removeChange(id);
  const sameAsServer =
    resolvedDeleted === record.deleted && (resolvedDeleted || differingFields(resolvedData, record.data).length === 0);
  if (resolution.winner === 'server' || sameAsServer) {
    await adopt(tx, record, local, tracker.clientId);
    return 'adopted-server';
  }
  await tracker.restoreClock(tx);
  const hlc = resolution.hlc ?? (compareHlc(local.hlc, record.hlc) > 0 ? local.hlc : record.hlc);
  const vector = await nextVector(tx, mergeVersionVectors(local.vector, record.vector), tracker.clientId);
  const fieldHlcs = resolution.fieldHlcs ?? (resolvedDeleted ? local.fieldHlcs : fieldStamps(resolvedData, hlc));
  const version = Math.max(local.version, record.version) + 1;
  const change = {
    id: tracker.newChangeId(),
    entityType: record.entityType,
    entityId: record.entityId,
    operation: resolvedDeleted ? ('DELETE' as const) : ('CREATE' as const),
    data: resolvedData,
    timestamp: decodeHlc(hlc).wallTime,
    hlc,
    version,
    vector,
    clientId: tracker.clientId,
    ...(resolvedDeleted ? {} : { fieldHlcs }),
    // The record's space: a resolution in a shared space must be pushed to that space.
    ...(local.space ? { space: local.space } : {}),
  };
  await tx.putEntity({
    entityType: record.entityType,
    entityId: record.entityId,
    data: resolvedData,
    deleted: resolvedDeleted,
    version,
    vector,
    hlc,
    fieldHlcs,
    serverVersion: record.version,
  });
  await tx.insertChange(change);
  // The change id (and a decision's stamp) came from the clock: keep it past a restart.
  await tracker.saveClock(tx);
  return 'queued-local';
}

function fieldStamps(data: Record<string, unknown> | null, hlc: string): Record<string, string> {
  return Object.fromEntries(Object.keys(data ?? {}).map((field) => [field, hlc]));
}
