import type { RecordData, ResolutionStrategy, VersionedState } from '@ferry/protocol';

export {
  isDeletedState,
  isPatchState,
  isResolutionStrategy,
  RESOLUTION_STRATEGIES,
  type ResolutionStrategy,
  type VersionedState,
} from '@ferry/protocol';

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
