import type { JsonValue, RecordData } from '../json.js';
import { compareCanonical } from './canonicalJson.js';
import { isDeletedState, type VersionedState } from './versionedState.js';
import {
  compareClocks,
  compareTiedStates,
  fieldClock,
  laterHlc,
  latestClock,
  recordClock,
  type WriteClock,
} from './writeClock.js';

/** The result of {@link mergeStates}; `source` says which input it came from, if only one. */
export interface MergedState {
  data: RecordData | null;
  deleted: boolean;
  fieldHlcs?: Record<string, string>;
  hlc?: string;
  source: 'a' | 'b' | 'merged';
}

/**
 * Field-level merge on per-field clocks: a last-writer-wins register per field.
 *
 * - Both live: every field of either side is kept; a field both sides carry takes the value
 *   with the later field clock (`fieldHlcs[field]`, else the side's `hlc`, else its
 *   `timestamp`/`clientId`). A field absent on one side is no claim, so no edit is dropped by
 *   a side that never wrote it. Result `fieldHlcs` are the per-field maxima; `hlc` the later one.
 * - One deleted: the delete wins when its clock is later than the live side's latest field
 *   clock; otherwise the live side comes back whole. On a tie the live side wins.
 * - Both deleted: the later tombstone.
 *
 * Commutative (the result does not depend on argument order, only `source` flips) and, over
 * live states, associative and idempotent: fold any number of replicas in any order.
 */
export function mergeStates(a: VersionedState, b: VersionedState): MergedState {
  const aDeleted = isDeletedState(a);
  const bDeleted = isDeletedState(b);
  if (aDeleted || bDeleted) {
    const aClock = aDeleted ? recordClock(a) : latestClock(a);
    const bClock = bDeleted ? recordClock(b) : latestClock(b);
    const c = compareClocks(aClock, bClock) || compareTiedStates(a, b);
    return c >= 0 ? whole(a, aClock, 'a') : whole(b, bClock, 'b');
  }

  const aData = a.data ?? {};
  const bData = b.data ?? {};
  const entries: Array<[string, JsonValue]> = [];
  const fieldHlcs: Array<[string, string]> = [];
  for (const field of new Set([...Object.keys(aData), ...Object.keys(bData)])) {
    const inA = Object.hasOwn(aData, field);
    const inB = Object.hasOwn(bData, field);
    let value: JsonValue;
    let stamp: string | undefined;
    if (inA && inB) {
      const aClock = fieldClock(a, field);
      const bClock = fieldClock(b, field);
      const aValue = aData[field] as JsonValue;
      const bValue = bData[field] as JsonValue;
      // Same clock, different values: only content is left that both replicas see alike.
      const c = compareClocks(aClock, bClock) || compareCanonical(aValue, bValue);
      value = c >= 0 ? aValue : bValue;
      stamp = laterHlc(aClock, bClock);
    } else if (inA) {
      value = aData[field] as JsonValue;
      stamp = fieldClock(a, field).hlc;
    } else {
      value = bData[field] as JsonValue;
      stamp = fieldClock(b, field).hlc;
    }
    entries.push([field, value]);
    if (stamp !== undefined) fieldHlcs.push([field, stamp]);
  }
  const merged: MergedState = { data: Object.fromEntries(entries), deleted: false, source: 'merged' };
  if (fieldHlcs.length > 0) merged.fieldHlcs = Object.fromEntries(fieldHlcs);
  const hlc = laterHlc(recordClock(a), recordClock(b));
  if (hlc !== undefined) merged.hlc = hlc;
  return merged;
}

function whole(state: VersionedState, clock: WriteClock, source: 'a' | 'b'): MergedState {
  if (isDeletedState(state)) {
    const result: MergedState = { data: null, deleted: true, source };
    if (clock.hlc !== undefined) result.hlc = clock.hlc;
    return result;
  }
  const result: MergedState = { data: { ...state.data }, deleted: false, source };
  const stamps = fieldStamps(state, state.data ?? {});
  if (stamps) result.fieldHlcs = stamps;
  if (clock.hlc !== undefined) result.hlc = clock.hlc;
  return result;
}

/** The stamps of the fields of `data`, taken from `state`; undefined when none is known. */
export function fieldStamps(state: VersionedState, data: RecordData): Record<string, string> | undefined {
  const stamps: Array<[string, string]> = [];
  for (const field of Object.keys(data)) {
    const stamp = fieldClock(state, field).hlc;
    if (stamp !== undefined) stamps.push([field, stamp]);
  }
  return stamps.length > 0 ? Object.fromEntries(stamps) : undefined;
}
