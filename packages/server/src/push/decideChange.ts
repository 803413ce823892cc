import {
  type Change,
  ClockDriftError,
  compareHlc,
  decodeHlc,
  dominates,
  ERROR_META,
  type ErrorCode,
  type HybridLogicalClock,
  isReservedType,
  mergeVersionVectors,
  type RecordData,
  type ServerRecord,
} from '@ferry/protocol';
import type { ServerSchema } from '../schema/parseSchema.js';
import { validateFields } from '../schema/validateFields.js';
import type { DecideInput, Decision, UnsequencedRecord } from '../storage/ServerStorage.js';

/** A change whose vector does not dominate the entity's current vector. */
export interface ConflictInput {
  change: Change;
  current: ServerRecord;
}

/**
 * Server-side arbitration hook. Return `null` to report the conflict to the client (the
 * default), or a change to apply instead (for example a field-level merge); the returned
 * change must dominate `current.vector`, else the conflict is still reported. It is logged
 * under the pushed change's id and client id.
 */
export type ConflictArbiter = (conflict: ConflictInput) => Change | null;

/** The default {@link ConflictArbiter}: the server never decides, the client resolves. */
export const reportConflict: ConflictArbiter = () => null;

/** What {@link decideChange} needs besides the change and the current record. */
export interface DecideContext {
  schema: ServerSchema;
  /** The server's own clock; only ever moved forward by applied changes. */
  clock: HybridLogicalClock;
  arbitrate?: ConflictArbiter;
}

/**
 * The apply algorithm for one change, free of I/O so every storage backend shares it:
 *
 *     logged already? ── yes ─▶ duplicate (the current record)
 *           │ no
 *     type declared? ──── no ─▶ rejected UNKNOWN_ENTITY_TYPE
 *           │ yes
 *     fields fit schema? ─ no ─▶ rejected VALIDATION_ERROR
 *           │ yes
 *     current exists and change.vector does not dominate it? ─ yes ─▶ arbitrate ─ null ─▶ conflict
 *           │ no                                                          │ change
 *           ▼                                                             ▼
 *        write: CREATE replaces, UPDATE patches, DELETE tombstones; vectors merge; version + 1
 *
 * Only a `write` is logged, so a conflict or a rejection is evaluated afresh when pushed again.
 */
export function decideChange(input: DecideInput, context: DecideContext): Decision {
  const { change, current, alreadyApplied } = input;
  if (alreadyApplied) return { kind: 'skip', result: { changeId: change.id, status: 'duplicate', record: current } };

  const entity = context.schema.entities.get(change.entityType);
  // Membership types ($space, $member) are checked by decideInSpace before they get here.
  if (isReservedType(change.entityType))
    return { kind: 'write', record: nextRecord(change, current, context.clock), change };
  if (entity === undefined) {
    const declared = [...context.schema.entities.keys()].join(', ');
    return reject(
      change,
      'UNKNOWN_ENTITY_TYPE',
      `Entity type "${change.entityType}" is not declared in the server schema (declared: ${declared})`,
    );
  }
  const problem =
    change.data === null ? undefined : validateFields(change.entityType, entity, change.data, change.operation);
  if (problem !== undefined) return reject(change, 'VALIDATION_ERROR', problem);

  let applied = change;
  if (current !== null && !dominates(change.vector, current.vector)) {
    // Arbitrate on the stamp the change would be written with, so a far-future clock cannot
    // win a last-write-wins here that it could not win once re-stamped.
    const arbitrated = (context.arbitrate ?? reportConflict)({ change: withinDrift(change, context.clock), current });
    if (arbitrated === null || !dominates(arbitrated.vector, current.vector)) {
      return { kind: 'skip', result: { changeId: change.id, status: 'conflict', record: current } };
    }
    // Keep the pushed id and author, so a replay of this change dedupes against the log.
    applied = { ...arbitrated, id: change.id, clientId: change.clientId };
  }
  return { kind: 'write', record: nextRecord(applied, current, context.clock), change: applied };
}

/** A change refused on its own (the rest of its push still applies); never logged, so a fix can be pushed again. */
function reject(change: Change, code: ErrorCode, message: string): Decision {
  return {
    kind: 'skip',
    result: {
      changeId: change.id,
      status: 'rejected',
      error: { code, message, retryable: ERROR_META[code].retryable },
    },
  };
}

/** The server's stamp for an applied change: the client's, unless its clock runs too far ahead. */
function stampFor(change: Change, clock: HybridLogicalClock): string {
  try {
    // admit, not receive: the same verdict on drift, without encoding a stamp nobody reads.
    clock.admit(change.hlc);
    return change.hlc;
  } catch (error) {
    // A phone whose clock is days ahead would otherwise win every last-write-wins forever.
    if (error instanceof ClockDriftError) return clock.now();
    throw error;
  }
}

/** `change` with its stamps pulled back to the server's clock when that clock would refuse them. */
function withinDrift(change: Change, clock: HybridLogicalClock): Change {
  try {
    clock.admit(change.hlc);
    return change;
  } catch (error) {
    if (!(error instanceof ClockDriftError)) throw error;
    const hlc = clock.now();
    const clamped: Change = { ...change, hlc, timestamp: decodeHlc(hlc).wallTime };
    if (change.fieldHlcs) clamped.fieldHlcs = clampStamps(change.fieldHlcs, hlc);
    return clamped;
  }
}

/** Field stamps no later than the record's own stamp (a re-stamped record drags its fields back too). */
function clampStamps(stamps: Record<string, string>, hlc: string): Record<string, string> {
  const clamped: Record<string, string> = {};
  for (const [field, stamp] of Object.entries(stamps)) clamped[field] = compareHlc(stamp, hlc) > 0 ? hlc : stamp;
  return clamped;
}

function nextRecord(change: Change, current: ServerRecord | null, clock: HybridLogicalClock): UnsequencedRecord {
  const hlc = stampFor(change, clock);
  const live = current !== null && !current.deleted ? current : null;
  let data: RecordData | null;
  let fieldHlcs: Record<string, string>;
  switch (change.operation) {
    case 'CREATE':
      data = { ...(change.data ?? {}) };
      fieldHlcs = stampFields({}, data, hlc, change.fieldHlcs);
      break;
    case 'UPDATE':
      data = { ...(live?.data ?? {}), ...(change.data ?? {}) };
      fieldHlcs = stampFields(current?.fieldHlcs ?? {}, change.data ?? {}, hlc, change.fieldHlcs);
      break;
    case 'DELETE':
      data = null;
      fieldHlcs = { ...(current?.fieldHlcs ?? {}) };
      break;
  }
  return {
    entityType: change.entityType,
    entityId: change.entityId,
    data,
    deleted: change.operation === 'DELETE',
    version: (current?.version ?? 0) + 1,
    vector: mergeVersionVectors(current?.vector ?? {}, change.vector),
    hlc,
    fieldHlcs,
    clientId: change.clientId,
    changeId: change.id,
  };
}

/**
 * The record's field clocks after a write: each written field takes the change's own stamp
 * for it (a merged resolution carries the stamps of the writes it kept), else the record's.
 * A field stamp never passes the record's stamp, which the server may have pulled back from
 * a far-future device clock.
 */
function stampFields(
  base: Record<string, string>,
  written: RecordData,
  hlc: string,
  own: Record<string, string> | undefined,
): Record<string, string> {
  const stamped = { ...base };
  for (const field of Object.keys(written)) {
    const stamp = own && Object.hasOwn(own, field) ? own[field] : undefined;
    stamped[field] = stamp !== undefined && compareHlc(stamp, hlc) <= 0 ? stamp : hlc;
  }
  return stamped;
}
