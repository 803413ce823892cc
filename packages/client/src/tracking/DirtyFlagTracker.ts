import type { LocalStore } from '../store/LocalStore.js';

/** An entity with unsynced field edits. */
export interface DirtyEntity {
  entityType: string;
  entityId: string;
  isDirty: boolean;
  dirtyFields: string[];
  modifiedAt: number;
}

/**
 * Which fields of which entities changed since they last synced. `fromOutbox` rebuilds the
 * flags from the pending changes, so they survive a restart: the outbox is the truth.
 */
export class DirtyFlagTracker {
  readonly #dirty = new Map<string, DirtyEntity>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** Flags from the outbox: every field a pending change writes, per entity. */
  static async fromOutbox(store: LocalStore, options: { now?: () => number } = {}): Promise<DirtyFlagTracker> {
    const tracker = new DirtyFlagTracker(options);
    const pending = await store.read((tx) => tx.pendingChanges(-1, true));
    for (const change of pending) {
      tracker.markDirty(change.entityType, change.entityId, Object.keys(change.data ?? {}));
      tracker.#dirty.get(key(change.entityType, change.entityId))!.modifiedAt = change.timestamp;
    }
    return tracker;
  }

  markDirty(entityType: string, entityId: string, modifiedFields: readonly string[]): void {
    const existing = this.#dirty.get(key(entityType, entityId));
    if (existing) {
      existing.dirtyFields = [...new Set([...existing.dirtyFields, ...modifiedFields])];
      existing.modifiedAt = this.#now();
    } else {
      this.#dirty.set(key(entityType, entityId), {
        entityType,
        entityId,
        isDirty: true,
        dirtyFields: [...new Set(modifiedFields)],
        modifiedAt: this.#now(),
      });
    }
  }

  markClean(entityType: string, entityId: string): void {
    this.#dirty.delete(key(entityType, entityId));
  }

  getDirtyEntities(): DirtyEntity[] {
    return [...this.#dirty.values()].filter((entity) => entity.isDirty);
  }

  isDirty(entityType: string, entityId: string): boolean {
    return this.#dirty.get(key(entityType, entityId))?.isDirty ?? false;
  }

  /** The fields to send for an entity: only what changed. */
  getDirtyFields(entityType: string, entityId: string): string[] {
    return [...(this.#dirty.get(key(entityType, entityId))?.dirtyFields ?? [])];
  }
}

function key(entityType: string, entityId: string): string {
  return `${entityType}\u0000${entityId}`;
}
