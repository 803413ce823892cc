import type { Operation, RecordData, VersionVector } from '@ferry/protocol';

/**
 * One side of a conflict: what a replica believes an entity is. A protocol `Change` is one
 * as it stands; a `ServerRecord` becomes one through `stateFromRecord`.
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

/** A {@link VersionedState} that names its entity: what `ConflictDetector` matches on. */
export interface VersionedEntity extends VersionedState {
  entityType: string;
  entityId: string;
}

/** `update-delete`: local updated, server deleted. `delete-update`: local deleted, server updated. */
export type ConflictType = 'update-update' | 'update-delete' | 'delete-update';

/** A concurrent edit of one entity on this device (`local`) and on the server. */
export interface ConflictInfo {
  entityType: string;
  entityId: string;
  localVersion: VersionedState;
  serverVersion: VersionedState;
  conflictType: ConflictType;
  /** For `update-update`: the fields both sides wrote with different values. Empty otherwise. */
  conflictingFields: string[];
}

/** Every strategy a `ConflictResolver` knows, in the seed's spelling. */
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

/** True when `value` names a {@link ResolutionStrategy}. */
export function isResolutionStrategy(value: unknown): value is ResolutionStrategy {
  return typeof value === 'string' && (RESOLUTION_STRATEGIES as readonly string[]).includes(value);
}

/** Which side won; `deferred` is a manual conflict nobody has decided yet (it waits in the inbox). */
export type ResolutionWinner = 'local' | 'server' | 'merged' | 'deferred';

/** The outcome of a conflict: the entity's state after it. */
export interface Resolution {
  winner: ResolutionWinner;
  /** The entity's data after the resolution; `null` when it ends deleted. */
  resolvedData: RecordData | null;
  deleted: boolean;
  strategy: ResolutionStrategy;
  /** Stamps of the fields of `resolvedData`, where known (always, when both sides had HLCs). */
  fieldHlcs?: Record<string, string>;
  /** Stamp of the state that won, or the later of both for a merge. */
  hlc?: string;
}

/** Decides a `manual` conflict; resolving to `undefined` leaves it `deferred`. */
export type ManualResolutionCallback = (conflict: ConflictInfo) => Promise<Resolution | undefined>;

/** True when the state is a tombstone. */
export function isDeletedState(state: VersionedState): boolean {
  return state.deleted === true || state.operation === 'DELETE';
}

/** True when `data` holds only the fields an `UPDATE` wrote, not the whole record. */
export function isPatchState(state: VersionedState): boolean {
  return state.operation === 'UPDATE' && !isDeletedState(state);
}
