import { compareHlc, decodeHlc } from '../hlc.js';
import { compareCanonical } from './canonicalJson.js';
import { isDeletedState, type VersionedState } from './versionedState.js';

/**
 * A write's place in the order every replica agrees on: the decoded HLC, or, for a state
 * without one, `(timestamp, 0, clientId)`. Comparing these tuples is a total order that
 * coincides with comparing HLC strings when both sides have them.
 */
export interface WriteClock {
  wallTime: number;
  counter: number;
  node: string;
  /** The HLC string, when the clock came from one. */
  hlc?: string;
}

function clockFrom(hlc: string | undefined, state: VersionedState): WriteClock {
  if (hlc !== undefined) return { ...decodeHlc(hlc), hlc };
  return { wallTime: state.timestamp, counter: 0, node: state.clientId ?? '' };
}

/** The clock of the write that produced the whole state. */
export function recordClock(state: VersionedState): WriteClock {
  return clockFrom(state.hlc, state);
}

/** The clock of the last write of `field`; a field without its own stamp was written with the record. */
export function fieldClock(state: VersionedState, field: string): WriteClock {
  // hasOwn: a field named like an Object.prototype member must not read the prototype.
  const own = state.fieldHlcs && Object.hasOwn(state.fieldHlcs, field) ? state.fieldHlcs[field] : undefined;
  return clockFrom(own ?? state.hlc, state);
}

/** The latest clock in a state: its record clock or any of its data fields' clocks. */
export function latestClock(state: VersionedState): WriteClock {
  let latest = recordClock(state);
  for (const field of Object.keys(state.data ?? {})) {
    const clock = fieldClock(state, field);
    if (compareClocks(clock, latest) > 0) latest = clock;
  }
  return latest;
}

/** Negative when `a` is earlier than `b`, positive when later, 0 only for the same tuple. */
export function compareClocks(a: WriteClock, b: WriteClock): number {
  if (a.wallTime !== b.wallTime) return a.wallTime < b.wallTime ? -1 : 1;
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1;
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}

/**
 * Orders two states whose clocks tie (only possible without HLCs, or for the same write seen
 * twice) by content alone, so that both replicas of a conflict pick the same side: a live
 * state beats a tombstone (a wrongly kept record can be deleted again; a wrongly deleted one
 * is gone), then the larger canonical JSON wins. Positive when `a` wins.
 */
export function compareTiedStates(a: VersionedState, b: VersionedState): number {
  const aDeleted = isDeletedState(a);
  if (aDeleted !== isDeletedState(b)) return aDeleted ? -1 : 1;
  return compareCanonical(a.data, b.data);
}

/** The HLC string of the later of two clocks, if either has one (the later's, when it has one). */
export function laterHlc(a: WriteClock, b: WriteClock): string | undefined {
  const c = compareClocks(a, b);
  if (c > 0) return a.hlc ?? b.hlc;
  if (c < 0) return b.hlc ?? a.hlc;
  // Tied tuples: pick by string so the answer does not depend on argument order.
  if (a.hlc === undefined || b.hlc === undefined) return a.hlc ?? b.hlc;
  return compareHlc(a.hlc, b.hlc) >= 0 ? a.hlc : b.hlc;
}
