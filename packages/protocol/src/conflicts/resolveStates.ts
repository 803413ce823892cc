/**
 * The automatic conflict strategies as one pure function, shared by the client's
 * `ConflictResolver` and the server's arbitration, so both settle a conflict alike.
 *
 * "Later"/"earlier" compare HLC strings (a total order, node id breaks ties). A side without
 * an HLC is placed by `(timestamp, clientId)`. On an exact tie (only possible without HLCs,
 * or for the same write seen twice) the live side beats the tombstone, then the larger
 * canonical JSON of `data` wins, so both replicas of a conflict pick alike. When the winning
 * side is an `UPDATE` patch (only the fields it wrote) and the loser is live, the patch is
 * applied over the loser's data; a winning patch over a tombstone comes back as the patch.
 */
import type { RecordData } from '../json.js';
import { mergeStates } from './mergeStates.js';
import { type AutomaticStrategy, isDeletedState, isPatchState, type VersionedState } from './versionedState.js';
import { compareClocks, compareTiedStates, fieldClock, recordClock } from './writeClock.js';

/** The outcome of {@link resolveStates}: the entity's state after the conflict. */
export interface StateResolution {
  winner: 'local' | 'server' | 'merged';
  /** The entity's data after the resolution; `null` when it ends deleted. */
  resolvedData: RecordData | null;
  deleted: boolean;
  /** Stamps of the fields of `resolvedData`, where known (always, when both sides had HLCs). */
  fieldHlcs?: Record<string, string>;
  /** Stamp of the state that won, or the later of both for a merge. */
  hlc?: string;
}

/**
 * Settles a conflict between `local` (the side that wrote on a stale copy: the device, or
 * the pushed change at the server) and `server` (the reference copy) by `strategy`.
 *
 * @example
 * resolveStates('merge', pushedChangeState, currentRecordState); // { winner: 'merged', ... }
 */
export function resolveStates(
  strategy: AutomaticStrategy,
  local: VersionedState,
  server: VersionedState,
): StateResolution {
  switch (strategy) {
    case 'last-write-wins':
    case 'first-write-wins': {
      const c = compareClocks(recordClock(local), recordClock(server));
      const localLater = c === 0 ? compareTiedStates(local, server) >= 0 : c > 0;
      // On a tie both strategies keep the side compareTiedStates prefers.
      const localWins = c === 0 || strategy === 'last-write-wins' ? localLater : !localLater;
      return localWins ? pickState('local', local, server) : pickState('server', server, local);
    }
    case 'server-wins':
      return pickState('server', server, local);
    case 'client-wins':
      return pickState('local', local, server);
    case 'merge': {
      const merged = mergeStates(local, server);
      const winner = merged.source === 'a' ? 'local' : merged.source === 'b' ? 'server' : 'merged';
      const resolution: StateResolution = { winner, resolvedData: merged.data, deleted: merged.deleted };
      if (merged.fieldHlcs) resolution.fieldHlcs = merged.fieldHlcs;
      if (merged.hlc !== undefined) resolution.hlc = merged.hlc;
      return resolution;
    }
    default:
      throw new Error(
        `resolveStates settles the automatic strategies only, got ${JSON.stringify(strategy)}; a manual conflict needs a person`,
      );
  }
}

/** The winner's state, with a winning patch applied over a live loser. */
export function pickState(winner: 'local' | 'server', won: VersionedState, lost: VersionedState): StateResolution {
  if (isDeletedState(won)) {
    const resolution: StateResolution = { winner, resolvedData: null, deleted: true };
    if (won.hlc !== undefined) resolution.hlc = won.hlc;
    return resolution;
  }
  const overlay = isPatchState(won) && !isDeletedState(lost);
  const data = overlay ? { ...lost.data, ...won.data } : { ...won.data };
  const stamps: Array<[string, string]> = [];
  for (const field of Object.keys(data)) {
    const from = won.data && Object.hasOwn(won.data, field) ? won : lost;
    const stamp = fieldClock(from, field).hlc;
    if (stamp !== undefined) stamps.push([field, stamp]);
  }
  const resolution: StateResolution = { winner, resolvedData: data, deleted: false };
  if (stamps.length > 0) resolution.fieldHlcs = Object.fromEntries(stamps);
  if (won.hlc !== undefined) resolution.hlc = won.hlc;
  return resolution;
}
