import type { RecordData } from '../json.js';
import type { Operation } from '../schemas.js';
import type { VersionVector } from '../versionVector.js';

/**
 * One side of a conflict: what a replica believes an entity is. A protocol `Change` is one
 * as it stands; a `ServerRecord` becomes one through the client's `stateFromRecord`.
 *
 * `data` is a whole record, except for an `UPDATE` change, whose `data` holds only the fields
 * it wrote (a patch): strategies that pick a whole side apply a winning patch over the loser.
 */
export interface VersionedState {
  data: RecordData | null;
  /** True for a tombstone; an `operation` of `DELETE` means the same. */
  deleted?: boolean;
  /** Stamp of the write that produced this state: the order that decides. */
  hlc?: string;
  /** Wall-clock ms of the write; only consulted when `hlc` is missing. */
  timestamp: number;
  /** Version vector of the entity; with both sides' vectors a stale copy is told from a conflict. */
  vector?: VersionVector;
  /** Stamp of the last write of each field; a missing field falls back to `hlc`. */
  fieldHlcs?: Record<string, string>;
  operation?: Operation;
  /** Who wrote it; breaks `timestamp` ties when `hlc` is missing. */
  clientId?: string;
}

/** Every strategy a `ConflictResolver` knows, by its public name. */
export const RESOLUTION_STRATEGIES = [
  'last-write-wins',
  'first-write-wins',
  'server-wins',
  'client-wins',
  'merge',
  'manual',
] as const;

/** How a `ConflictResolver` settles a conflict. */
export type ResolutionStrategy = (typeof RESOLUTION_STRATEGIES)[number];

/** The strategies that decide without a person: the ones a server can arbitrate with. */
export const AUTOMATIC_STRATEGIES = [
  'last-write-wins',
  'first-write-wins',
  'server-wins',
  'client-wins',
  'merge',
] as const satisfies readonly ResolutionStrategy[];

/** One of {@link AUTOMATIC_STRATEGIES}. */
export type AutomaticStrategy = (typeof AUTOMATIC_STRATEGIES)[number];

/** True when `value` names a {@link ResolutionStrategy}. */
export function isResolutionStrategy(value: unknown): value is ResolutionStrategy {
  return typeof value === 'string' && (RESOLUTION_STRATEGIES as readonly string[]).includes(value);
}

/** True when `value` names an {@link AutomaticStrategy}. */
export function isAutomaticStrategy(value: unknown): value is AutomaticStrategy {
  return typeof value === 'string' && (AUTOMATIC_STRATEGIES as readonly string[]).includes(value);
}

/** True when the state is a tombstone. */
export function isDeletedState(state: VersionedState): boolean {
  return state.deleted === true || state.operation === 'DELETE';
}

/** True when `data` holds only the fields an `UPDATE` wrote, not the whole record. */
export function isPatchState(state: VersionedState): boolean {
  return state.operation === 'UPDATE' && !isDeletedState(state);
}
