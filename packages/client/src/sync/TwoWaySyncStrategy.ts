import type { ConflictResolverLike } from '../conflicts/resolveConflicts.js';
import { raceAbort, throwIfAborted } from '../retry/abort.js';
import type { PullResult, PullSyncStrategy } from './PullSyncStrategy.js';
import type { PushResult, PushSyncStrategy } from './PushSyncStrategy.js';
import { storeEngine } from './storeEngine.js';

/** Result of a two-way sync. */
export interface TwoWaySyncResult {
  pushResult: PushResult;
  pullResult: PullResult;
  conflictsResolved: number;
}

/** How many push rounds a two-way sync makes at most for resolutions found while pulling. */
const MAX_FOLLOW_UP_PUSHES = 3;

/**
 * Two-way sync (detect conflicts before pushing), on version vectors, as cycles of the store's
 * one engine ({@link storeEngine}: the SyncManager's loop when one runs on the store):
 *
 *   1. detect  — a pull cycle: a pulled record whose vector is concurrent with a pending local
 *                change is a conflict (a stale copy is not);
 *   2. resolve — the engine's resolver settles each one; the resolution is queued as a change;
 *   3. push    — a full cycle pushes pending changes, resolutions included (a conflict the
 *                server still reports, a write that landed in between, is resolved from its
 *                answer), then
 *   4. pull    — pulls what arrived meanwhile; push cycles follow for the resolutions it made.
 *
 * Each step waits its turn in the loop, so it never runs beside another sync of the store.
 * Pulled pages are applied and the cursor advanced in one local transaction, so detection costs
 * no extra download: step 4 only fetches what is newer than step 1. `pushSync` names the store,
 * transport and tracker; without a SyncManager on the store the engine is built from them and
 * `conflictResolver`, with one the manager's transport and resolver are used.
 *
 * @example
 * const twoWay = new TwoWaySyncStrategy(pushSync, pullSync, new ConflictResolver('merge'));
 * const { conflictsResolved } = await twoWay.sync();
 */
export class TwoWaySyncStrategy {
  readonly #push: PushSyncStrategy;
  readonly #resolver: ConflictResolverLike;

  constructor(pushSync: PushSyncStrategy, _pullSync: PullSyncStrategy, conflictResolver: ConflictResolverLike) {
    this.#push = pushSync;
    this.#resolver = conflictResolver;
  }

  /** Runs the four steps; `signal` stops the waiting (a cycle already running finishes in the loop). */
  async sync(options: { signal?: AbortSignal } = {}): Promise<TwoWaySyncResult> {
    const { signal } = options;
    throwIfAborted(signal);
    const tracker = this.#push.changeTracker;
    const engine = storeEngine(tracker.store, {
      remoteAPI: this.#push.remoteAPI,
      changeTracker: tracker,
      conflictResolver: this.#resolver,
    });
    // Steps 1 and 2: detect and resolve before pushing.
    const detected = (await raceAbort(engine.run('pull'), signal)).pull;
    // Steps 3 and 4.
    const { push: pushResult, pull: pulled } = await raceAbort(engine.run('full'), signal);
    const pullResult = addPulls(detected, pulled);
    let conflictsResolved = detected.conflicts + pushResult.conflicts + pulled.conflicts;
    for (let round = 0; round < MAX_FOLLOW_UP_PUSHES && pulled.conflicts > 0; round++) {
      const followUp = (await raceAbort(engine.run('push'), signal)).push;
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
