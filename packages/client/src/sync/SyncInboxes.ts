import {
  type ConflictDecision,
  ConflictInbox,
  type ConflictsView,
  type StoredConflict,
  watchConflicts,
} from '../conflicts/ConflictInbox.js';
import type { LocalStore } from '../store/LocalStore.js';
import type { DeadLetter } from '../store/types.js';
import type { ChangeTracker } from '../tracking/ChangeTracker.js';
import { DeadLetterQueue } from './DeadLetterQueue.js';

/**
 * The two inboxes of a sync engine, as `SyncManager` exposes them: `deadLetters` (changes the
 * server refused for good) and `conflicts` (manual conflicts waiting for a decision), plus the
 * older flat methods (`listDeadLetters`, `retryDeadLetter`, ...) that delegate to them. A retried dead letter or a decided conflict asks the
 * engine to sync.
 */
export class SyncInboxes {
  /** Changes the server refused for good: list, retry, discard, subscribe. */
  readonly deadLetters: DeadLetterQueue;
  /** Manual conflicts waiting for a decision: list, resolve, subscribe. */
  readonly conflicts: ConflictsView;

  constructor(store: LocalStore, ready: () => Promise<ChangeTracker>, sync: () => void) {
    this.deadLetters = new DeadLetterQueue(store, { onRetried: sync });
    let inbox: Promise<ConflictInbox> | undefined;
    const open = () => {
      inbox ??= ready().then((tracker) => new ConflictInbox(tracker, { onResolved: sync }));
      return inbox;
    };
    this.conflicts = {
      list: async () => (await open()).list(),
      resolve: async (id, decision) => (await open()).resolve(id, decision),
      subscribe: (listener) => watchConflicts(store, listener),
    };
  }

  /** Changes the server rejected for good, oldest first (`deadLetters.list()`). */
  listDeadLetters(): Promise<DeadLetter[]> {
    return this.deadLetters.list();
  }

  /** Sends a dead change again (same id) and syncs; false when there is no such dead letter. */
  retryDeadLetter(changeId: string): Promise<boolean> {
    return this.deadLetters.retry(changeId);
  }

  /** Forgets a dead change; false when there is no such dead letter. */
  discardDeadLetter(changeId: string): Promise<boolean> {
    return this.deadLetters.discard(changeId);
  }

  /** Hears the dead-letter list now and whenever it changes; returns unsubscribe. */
  subscribeToDeadLetters(listener: (deadLetters: DeadLetter[]) => void): () => void {
    return this.deadLetters.subscribe(listener);
  }

  /** Manual conflicts waiting for a decision (persisted: they survive a restart), oldest first. */
  listConflicts(): Promise<StoredConflict[]> {
    return this.conflicts.list();
  }

  /**
   * Decides a parked conflict: it becomes one new change that syncs, the entity's held
   * changes are released, and a sync is triggered. An unknown id throws and changes nothing.
   */
  resolveConflict(id: string, resolution: ConflictDecision): Promise<void> {
    return this.conflicts.resolve(id, resolution);
  }

  /** Calls `listener` after every change of the conflict inbox; returns the unsubscribe function. */
  subscribeToConflicts(listener: () => void): () => void {
    return this.conflicts.subscribe(listener);
  }
}
