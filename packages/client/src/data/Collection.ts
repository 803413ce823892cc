import type { RecordData } from '@ferry/protocol';
import { SyncError } from '../errors.js';
import type { FindOptions } from '../store/types.js';
import type { ChangeTracker } from '../tracking/ChangeTracker.js';

/** A record as the app sees it: its fields plus its id. */
export type Doc<T extends RecordData = RecordData> = T & { id: string };

/**
 * The app-facing view of one entity type. Every write goes through the
 * {@link ChangeTracker}, so the row and its outbox entry commit together.
 *
 * @example
 * const todos = sync.collection<{ title: string; completed: boolean }>('todos');
 * const todo = await todos.insert({ title: 'Milk', completed: false });
 * await todos.update(todo.id, { completed: true });
 * const open = await todos.find({ where: { completed: false }, orderBy: 'title' });
 */
export class Collection<T extends RecordData = RecordData> {
  readonly name: string;
  readonly #tracker: ChangeTracker;

  constructor(name: string, tracker: ChangeTracker) {
    this.name = name;
    this.#tracker = tracker;
  }

  /**
   * Adds a record. `id` is generated when absent. Inserting over a live record with the same
   * id is an error (use `update`); inserting over a deleted one revives it.
   */
  async insert(data: T & { id?: string }): Promise<Doc<T>> {
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw new SyncError('VALIDATION_ERROR', `insert into ${this.name} needs an object`);
    }
    const { id, ...fields } = data as RecordData & { id?: unknown };
    if (id !== undefined && typeof id !== 'string') {
      throw new SyncError('VALIDATION_ERROR', `The id of a ${this.name} record must be a string`);
    }
    const entityId = id ?? this.#tracker.newChangeId().replace(/[^A-Za-z0-9_-]/g, '');
    await this.#tracker.store.write(async (tx) => {
      const existing = await tx.getEntity(this.name, entityId);
      if (existing && !existing.deleted) {
        throw new SyncError('VALIDATION_ERROR', `${this.name} "${entityId}" already exists; use update() to change it`);
      }
      await this.#tracker.trackChangeIn(tx, this.name, entityId, 'CREATE', fields);
    });
    return { ...(fields as T), id: entityId };
  }

  /** Changes some fields of a live record; fails clearly when it does not exist. */
  async update(id: string, patch: Partial<T>): Promise<Doc<T>> {
    if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
      throw new SyncError('VALIDATION_ERROR', `update of ${this.name} needs an object of fields`);
    }
    const { id: _ignored, ...fields } = patch as RecordData;
    return this.#tracker.store.write(async (tx) => {
      const existing = await tx.getEntity(this.name, id);
      if (!existing || existing.deleted) {
        throw new SyncError('VALIDATION_ERROR', `No ${this.name} "${id}" to update`);
      }
      await this.#tracker.trackChangeIn(tx, this.name, id, 'UPDATE', fields);
      return { ...(existing.data as T), ...(fields as Partial<T>), id } as Doc<T>;
    });
  }

  /** Deletes a record (a tombstone syncs to other devices). Deleting a missing record is a no-op. */
  async delete(id: string): Promise<void> {
    await this.#tracker.store.write(async (tx) => {
      const existing = await tx.getEntity(this.name, id);
      if (!existing || existing.deleted) return;
      await this.#tracker.trackChangeIn(tx, this.name, id, 'DELETE', null);
    });
  }

  /** One live record, or null. */
  async get(id: string): Promise<Doc<T> | null> {
    return (await this.#tracker.store.get(this.name, id)) as Doc<T> | null;
  }

  /** Live records filtered by field equality and ordered (see {@link FindOptions}). */
  async find(options: FindOptions = {}): Promise<Array<Doc<T>>> {
    return (await this.#tracker.store.find(this.name, options)) as Array<Doc<T>>;
  }

  /**
   * Calls `listener` after every committed write (local or from sync) touching this
   * collection. Returns the unsubscribe function.
   */
  subscribe(listener: () => void): () => void {
    return this.#tracker.store.subscribe((event) => {
      if (event.entityTypes.has(this.name)) listener();
    });
  }
}
