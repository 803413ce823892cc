import type { PullResult, PullSyncStrategy } from './PullSyncStrategy.js';
import type { PushResult, PushSyncStrategy } from './PushSyncStrategy.js';
import type { ConflictResolverLike } from './resolveConflicts.js';

/** Result of a two-way sync (the seed's `TwoWaySyncResult`). */
export interface TwoWaySyncResult {
  pushResult: PushResult;
  pullResult: PullResult;
  conflictsResolved: number;
}

/** How many push rounds a two-way sync makes at most for resolutions found while pulling. */
const MAX_FOLLOW_UP_PUSHES = 3;

/**
 * Push, then pull, then push what resolving the pull's conflicts queued. Conflicts are found
 * where they are certain: in the server's answer to a push (its version vector is concurrent
 * with ours) and in pulled records that are concurrent with pending local changes. Both are
 * settled by `conflictResolver`; a stale copy is never mistaken for a conflict.
 */
export class TwoWaySyncStrategy {
  readonly #push: PushSyncStrategy;
  readonly #pull: PullSyncStrategy;
  readonly #resolver: ConflictResolverLike;

  constructor(pushSync: PushSyncStrategy, pullSync: PullSyncStrategy, conflictResolver: ConflictResolverLike) {
    this.#push = pushSync;
    this.#pull = pullSync;
    this.#resolver = conflictResolver;
  }

  async sync(options: { signal?: AbortSignal } = {}): Promise<TwoWaySyncResult> {
    const call = { conflictResolver: this.#resolver, ...(options.signal ? { signal: options.signal } : {}) };
    const pushResult = await this.#push.pushChanges(call);
    const pullResult = await this.#pull.pullChanges(call);
    let conflictsResolved = pushResult.conflicts + pullResult.conflicts;
    for (let round = 0; round < MAX_FOLLOW_UP_PUSHES && pullResult.conflicts > 0; round++) {
      const followUp = await this.#push.pushChanges(call);
      conflictsResolved += followUp.conflicts;
      pushResult.totalChanges += followUp.totalChanges;
      pushResult.successful += followUp.successful;
      pushResult.failed += followUp.failed;
      pushResult.conflicts += followUp.conflicts;
      pushResult.results.push(...followUp.results);
      if (followUp.totalChanges === 0) break;
    }
    return { pushResult, pullResult, conflictsResolved };
  }
}
