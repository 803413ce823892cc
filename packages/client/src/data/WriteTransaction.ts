import type { EntityName, InferRecord, RecordData, Schema } from '@ferry/protocol';
import type { StoreTx } from '../store/StoreTx.js';
import type { ChangeTracker } from '../tracking/ChangeTracker.js';
import { Collection } from './Collection.js';

/** A collection inside {@link WriteTransaction}: its writes, and reads of what the transaction sees. */
export type TxCollection<T extends RecordData = RecordData> = Pick<
  Collection<T>,
  'name' | 'insert' | 'update' | 'delete' | 'get'
>;

/**
 * What `sync.write(async (tx) => …)` hands its function: collections whose writes all join ONE
 * local transaction. The records and their outbox entries commit together when the function
 * resolves, or not at all when it throws; subscribers hear about the write once, after the
 * commit. Queries (`find`, `query`) are not offered here: read before or after the write.
 *
 * @example
 * await sync.write(async (tx) => {
 *   const list = await tx.collection('lists').insert({ title: 'Groceries' });
 *   await tx.collection('todos').insert({ title: 'Milk', listId: list.id });
 * });
 */
export class WriteTransaction<S extends Schema = Schema> {
  readonly #tx: StoreTx;
  readonly #tracker: ChangeTracker;
  readonly #collections = new Map<string, TxCollection>();

  constructor(tx: StoreTx, tracker: ChangeTracker) {
    this.#tx = tx;
    this.#tracker = tracker;
  }

  /** One entity type's writes within this transaction. */
  collection<K extends EntityName<S>>(name: K): TxCollection<InferRecord<S, K>>;
  collection<T extends RecordData = RecordData>(name: string): TxCollection<T>;
  collection(name: string): TxCollection {
    let collection = this.#collections.get(name);
    if (!collection) {
      collection = new Collection(name, this.#tracker, this.#tx);
      this.#collections.set(name, collection);
    }
    return collection;
  }
}
