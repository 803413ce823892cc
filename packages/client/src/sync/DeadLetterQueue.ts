import type { LocalStore } from '../store/LocalStore.js';
import type { DeadLetter } from '../store/types.js';
import { Emitter } from '../util/Emitter.js';

/** The dead-letter list as the app sees it (`syncManager.deadLetters`, `sync.deadLetters`). */
export interface DeadLettersView {
  /** Every dead change, oldest first. */
  list(): Promise<DeadLetter[]>;
  /** Puts the change back in the outbox (same id) and syncs; false when there is no such dead letter. */
  retry(changeId: string): Promise<boolean>;
  /** Forgets the change; false when there is no such dead letter. */
  discard(changeId: string): Promise<boolean>;
  /** Calls `listener` with the list now and whenever it changes; returns unsubscribe. */
  subscribe(listener: (deadLetters: DeadLetter[]) => void): () => void;
}

/**
 * The app's view of changes the server rejected for good (validation, permissions). They left
 * the outbox so the queue keeps moving; here the app can list them, send one again (after the
 * cause is fixed, e.g. a schema deploy) or discard it. Persisted in the store's dead-letter
 * table, so they survive restarts.
 */
export class DeadLetterQueue implements DeadLettersView {
  readonly #store: LocalStore;
  readonly #changes = new Emitter<DeadLetter[]>();
  readonly #onRetried: (() => void) | undefined;
  #lastIds = '';

  /** `onRetried` runs after a dead letter went back into the outbox (the engine syncs then). */
  constructor(store: LocalStore, options: { onRetried?: () => void } = {}) {
    this.#store = store;
    this.#onRetried = options.onRetried;
  }

  /** Every dead change, oldest first. */
  list(): Promise<DeadLetter[]> {
    return this.#store.read((tx) => tx.deadLetters());
  }

  /**
   * Puts the change back at the end of the outbox, under the same id (the server never applied
   * it, so it is not a duplicate). Resolves false when no dead letter has that id.
   */
  async retry(changeId: string): Promise<boolean> {
    const found = await this.#store.write(async (tx) => {
      const letter = (await tx.deadLetters()).find((entry) => entry.change.id === changeId);
      if (!letter) return false;
      await tx.removeDeadLetter(changeId);
      // A newer copy of the same change id may already be queued (retried twice): keep one.
      await tx.removeChange(changeId);
      await tx.insertChange(letter.change);
      return true;
    });
    await this.refresh();
    if (found) this.#onRetried?.();
    return found;
  }

  /** Forgets the change. Resolves false when no dead letter has that id. */
  async discard(changeId: string): Promise<boolean> {
    const found = await this.#store.write(async (tx) => {
      const exists = (await tx.deadLetters()).some((entry) => entry.change.id === changeId);
      if (exists) await tx.removeDeadLetter(changeId);
      return exists;
    });
    await this.refresh();
    return found;
  }

  /** Calls `listener` with the current list now, and again whenever it changes. */
  subscribe(listener: (deadLetters: DeadLetter[]) => void): () => void {
    const unsubscribe = this.#changes.subscribe(listener);
    void this.list().then(
      (list) => {
        this.#lastIds = list.map((entry) => entry.change.id).join('\n');
        if (this.#changes.has(listener)) listener(list);
      },
      () => undefined,
    );
    return unsubscribe;
  }

  /** Re-reads the list and tells listeners when it differs from the last one they heard. */
  async refresh(): Promise<void> {
    if (this.#store.closed || this.#changes.size === 0) return;
    const list = await this.list();
    const ids = list.map((entry) => entry.change.id).join('\n');
    if (ids === this.#lastIds) return;
    this.#lastIds = ids;
    this.#changes.emit(list);
  }
}
