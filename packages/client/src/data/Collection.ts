import { type RecordData, type RecordShape, validateRecord } from '@ferry/protocol';
import { SyncError } from '../errors.js';
import type { LiveQuery } from '../store/LiveQuery.js';
import { type CountScope, withSpace } from '../store/LocalStore.js';
import type { StoreTx } from '../store/StoreTx.js';
import type { FindOptions } from '../store/types.js';
import type { ChangeTracker } from '../tracking/ChangeTracker.js';

/**
 * A record as the app sees it: its fields plus its id. Its space can be read as `doc.space`
 * (the shared space id, or null for the private space; not enumerable, see `withSpace`).
 */
export type Doc<T extends RecordData = RecordData> = T & { id: string; readonly space?: string | null };

/** Options of {@link Collection.insert}. */
export interface InsertOptions {
  /** The shared space to create the record in (`sp_…`); default the private space. */
  space?: string | null;
}

/**
 * The app-facing view of one entity type. Every write goes through the
 * {@link ChangeTracker}, so the row and its outbox entry commit together.
 *
 * @example
 * const todos = sync.collection<{ title: string; completed: boolean }>('todos');
 * const todo = await todos.insert({ title: 'Milk', completed: false });
 * await todos.update(todo.id, { completed: true });
 * const open = await todos.find({ where: { completed: false }, orderBy: 'title' });
 * const dueSoon = todos.query({ where: { completed: false, dueAt: { lte: tomorrow } }, orderBy: ['dueAt', 'title'] });
 * const stop = dueSoon.subscribe((rows) => render(rows)); // again after each write that changes them
 */
export class Collection<T extends RecordData = RecordData> {
  readonly name: string;
  readonly #tracker: ChangeTracker;
  /** Set for a collection inside `sync.write(...)`: its writes join that transaction. */
  readonly #tx: StoreTx | undefined;

  constructor(name: string, tracker: ChangeTracker, tx?: StoreTx) {
    this.name = name;
    this.#tracker = tracker;
    this.#tx = tx;
    // With a schema, an undeclared type fails here, at the first line that names it.
    tracker.store.entitySchema(name);
  }

  /** Refuses data the schema does not allow, before anything is written or queued. */
  #validate(fields: RecordData, shape: RecordShape): void {
    const entity = this.#tracker.store.entitySchema(this.name);
    const problem = entity === undefined ? undefined : validateRecord(this.name, entity, fields, shape);
    if (problem !== undefined) throw new SyncError('VALIDATION_ERROR', problem, { retryable: false });
  }

  /** Runs a write in this collection's transaction, or in a new one. */
  #write<R>(fn: (tx: StoreTx) => Promise<R>): Promise<R> {
    return this.#tx ? fn(this.#tx) : this.#tracker.store.write(fn);
  }

  /**
   * Adds a record, in the private space or in the shared space `options.space` (the user must
   * be its owner or editor, else the server refuses it and it lands in the dead letters).
   * `id` is generated when absent. Inserting over a live record with the same
   * id is an error (use `update`); inserting over a deleted one revives it.
   */
  async insert(data: T & { id?: string }, options: InsertOptions = {}): Promise<Doc<T>> {
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw new SyncError('VALIDATION_ERROR', `insert into ${this.name} needs an object`);
    }
    const { id, ...fields } = data as RecordData & { id?: unknown };
    if (id !== undefined && typeof id !== 'string') {
      throw new SyncError('VALIDATION_ERROR', `The id of a ${this.name} record must be a string`);
    }
    this.#validate(fields, 'record');
    const entityId = await this.#write(async (tx) => {
      // Made inside the transaction, whose start restored the clock: a fresh id's stamp comes
      // after every stamp the device issued before a restart.
      const entityId = id ?? this.#tracker.newChangeId().replace(/[^A-Za-z0-9_-]/g, '');
      const existing = await tx.getEntity(this.name, entityId);
      if (existing && !existing.deleted) {
        throw new SyncError('VALIDATION_ERROR', `${this.name} "${entityId}" already exists; use update() to change it`);
      }
      await this.#tracker.trackChangeIn(tx, this.name, entityId, 'CREATE', fields, { space: options.space });
      return entityId;
    });
    return withSpace({ ...(fields as T), id: entityId }, options.space ?? null);
  }

  /** Changes some fields of a live record; fails clearly when it does not exist. */
  async update(id: string, patch: Partial<T>): Promise<Doc<T>> {
    if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
      throw new SyncError('VALIDATION_ERROR', `update of ${this.name} needs an object of fields`);
    }
    const { id: _ignored, ...fields } = patch as RecordData;
    this.#validate(fields, 'patch');
    return this.#write(async (tx) => {
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
    await this.#write(async (tx) => {
      const existing = await tx.getEntity(this.name, id);
      if (!existing || existing.deleted) return;
      await this.#tracker.trackChangeIn(tx, this.name, id, 'DELETE', null);
    });
  }

  /** One live record, or null. */
  async get(id: string): Promise<Doc<T> | null> {
    if (!this.#tx) return (await this.#tracker.store.get(this.name, id)) as Doc<T> | null;
    const entity = await this.#tx.getEntity(this.name, id);
    return entity && !entity.deleted && entity.data ? ({ ...entity.data, id } as Doc<T>) : null;
  }

  /** Live records filtered, sorted and paged in SQLite (see {@link FindOptions}). */
  async find(options: FindOptions<T> | FindOptions = {}): Promise<Array<Doc<T>>> {
    return (await this.#tracker.store.find(this.name, options as unknown as FindOptions)) as Array<Doc<T>>;
  }

  /** How many live records match `where` (in `scope.space` only, when given: `null` is the private space). */
  count(where?: FindOptions<T>['where'] | FindOptions['where'], scope: CountScope = {}): Promise<number> {
    return this.#tracker.store.count(this.name, where as unknown as FindOptions['where'], scope);
  }

  /**
   * The same query as {@link find}, as a {@link LiveQuery}: `run()` it once, or `subscribe()`
   * to get its result now and after every committed write (local or pulled) that changes it.
   * Bad options fail here, with a `VALIDATION_ERROR` naming the field.
   */
  query(options: FindOptions<T> | FindOptions = {}): LiveQuery<Array<Doc<T>>> {
    return this.#tracker.store.query(this.name, options as unknown as FindOptions) as unknown as LiveQuery<Array<Doc<T>>>;
  }

  /** {@link count} as a {@link LiveQuery}. */
  countQuery(where?: FindOptions<T>['where'] | FindOptions['where'], scope: CountScope = {}): LiveQuery<number> {
    return this.#tracker.store.countQuery(this.name, where as unknown as FindOptions['where'], scope);
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
