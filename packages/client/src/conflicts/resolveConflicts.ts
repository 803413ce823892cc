import type { LocalStore } from '../store/LocalStore.js';
import type { ChangeTracker } from '../tracking/ChangeTracker.js';
import { notifyConflictsChanged } from './ConflictInbox.js';
import type { ConflictResolver } from './ConflictResolver.js';
import { applyResolution, type DetectedConflict, type ResolutionOutcome } from './reconcile.js';
import type { Resolution } from './types.js';

/** The part of a resolver the engine needs. */
export type ConflictResolverLike = Pick<ConflictResolver, 'resolve'>;

/** Counts of what happened to a set of conflicts. */
export interface ConflictOutcomes {
  resolved: number;
  parked: number;
  stale: number;
  /** Resolutions that queued a new change to push. */
  queued: number;
}

/**
 * Resolves conflicts one by one. The resolver runs OUTSIDE any transaction (a manual
 * strategy may wait on a dialog); each resolution then commits in its own transaction.
 * A resolver that throws parks the conflict in the inbox rather than stopping the sync.
 */
export async function resolveConflicts(
  store: LocalStore,
  tracker: ChangeTracker,
  resolver: ConflictResolverLike,
  conflicts: readonly DetectedConflict[],
): Promise<ConflictOutcomes> {
  const outcomes: ConflictOutcomes = { resolved: 0, parked: 0, stale: 0, queued: 0 };
  for (const conflict of conflicts) {
    let resolution: Resolution;
    try {
      resolution = await resolver.resolve(conflict.info);
    } catch {
      resolution = { winner: 'deferred', resolvedData: null, deleted: false, strategy: 'manual' };
    }
    const outcome: ResolutionOutcome = await store.write((tx) => applyResolution(tx, tracker, conflict, resolution));
    if (outcome === 'stale') outcomes.stale++;
    else if (outcome === 'parked') outcomes.parked++;
    else {
      outcomes.resolved++;
      if (outcome === 'queued-local') outcomes.queued++;
    }
  }
  // A parked conflict enters the inbox; a decided one may have settled a parked one.
  if (outcomes.parked > 0 || outcomes.resolved > 0) notifyConflictsChanged(store);
  return outcomes;
}
