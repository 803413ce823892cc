import type { ConflictResolverLike } from '../conflicts/resolveConflicts.js';
import type { PullResult, PullSyncStrategy } from './PullSyncStrategy.js';
import type { PushResult, PushSyncStrategy } from './PushSyncStrategy.js';

/** Result of a two-way sync (the seed's `TwoWaySyncResult`). */
export interface TwoWaySyncResult {
  pushResult: PushResult;
  pullResult: PullResult;
  conflictsResolved: number;
}

/** How many push rounds a two-way sync makes at most for resolutions found while pulling. */
const MAX_FOLLOW_UP_PUSHES = 3;

/**
 * The seed's two-way sync, on version vectors instead of timestamps:
 *
 *   1. detect  — pull what the server has since the saved cursor; a pulled record whose vector
 *                is concurrent with a pending local change is a conflict (a stale copy is not);
 *   2. resolve — `conflictResolver` settles each one; the resolution is queued as a change;
 *   3. push    — pending changes, resolutions included; a conflict the server still reports
 *                (a write that landed in between) is resolved from its answer;
 *   4. pull    — what arrived meanwhile, then push the resolutions that pull produced.
 *
 * Pulled pages are applied and the cursor advanced in one local transaction, so detection costs
 * no extra download: step 4 only fetches what is newer than step 1.
 *
 * @example
 * const twoWay = new TwoWaySyncStrategy(pushSync, pullSync, new ConflictResolver('merge'));
 * const { conflictsResolved } = await twoWay.sync();
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
    // Steps 1 and 2: detect and resolve before pushing.
    const detected = await this.#pull.pullChanges(call);
    // Step 3.
    const pushResult = await this.#push.pushChanges(call);
    // Step 4.
    const pulled = await this.#pull.pullChanges(call);
    const pullResult = addPulls(detected, pulled);
    let conflictsResolved = detected.conflicts + pushResult.conflicts + pulled.conflicts;
    for (let round = 0; round < MAX_FOLLOW_UP_PUSHES && pulled.conflicts > 0; round++) {
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

function addPulls(first: PullResult, second: PullResult): PullResult {
  return {
    totalChanges: first.totalChanges + second.totalChanges,
    successful: first.successful + second.successful,
    failed: first.failed + second.failed,
    conflicts: first.conflicts + second.conflicts,
    pages: first.pages + second.pages,
    cursor: second.cursor,
  };
}
