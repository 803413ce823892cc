import { isFieldName, type RecordData } from '@ferry/protocol';
import { SyncError } from '../errors.js';
import { Mutex } from '../util/Mutex.js';
import type { SqlDriver, SqlValue } from './SqlDriver.js';
import { StoreTx } from './StoreTx.js';
import { STORE_MIGRATIONS, STORE_SCHEMA_VERSION } from './schema.js';
import type { FindOptions, KeyValueStore, LocalEntity, StoreChangeEvent } from './types.js';

type Listener = (event: StoreChangeEvent) => void;

/**
 * The device's database: entities, the outbox of pending changes, sync state, the conflict
 * inbox and dead letters, all in one SQLite file behind a {@link SqlDriver}.
 *
 * Every access is serialised by one lock, so a write transaction and its outbox entry are
 * atomic and no statement ever slips into another caller's transaction.
 *
 * @example
 * const store = await LocalStore.open(createBetterSqliteDriver('./app.db'));
 * const todos = await store.find('todos', { where: { completed: false }, orderBy: 'order' });
 */
export class LocalStore {
  readonly #driver: SqlDriver;
  readonly #lock = new Mutex();
  readonly #listeners = new Set<Listener>();
  #closed = false;

  /** An AsyncStorage-shaped view of the store's key-value table (sync state lives here). */
  readonly kv: KeyValueStore;

  private constructor(driver: SqlDriver) {
    this.#driver = driver;
    this.kv = {
      getItem: (key) => this.read((tx) => tx.getKv(key)),
      setItem: (key, value) => this.write((tx) => tx.setKv(key, value)),
      removeItem: (key) => this.write((tx) => tx.deleteKv(key)),
    };
  }

  /** Opens a store on a driver, creating or migrating its tables. */
  static async open(driver: SqlDriver): Promise<LocalStore> {
    const store = new LocalStore(driver);
    await store.#migrate();
    return store;
  }

  async #migrate(): Promise<void> {
    await this.#driver.transaction(async (sql) => {
      await sql.execute('CREATE TABLE IF NOT EXISTS ferry_kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
      const { rows } = await sql.execute("SELECT value FROM ferry_kv WHERE key = 'schemaVersion'");
      const current = rows[0] ? Number(rows[0].value) : 0;
      if (current > STORE_SCHEMA_VERSION) {
        throw new Error(
          `The local database is from a newer Ferry (schema ${current}, this build knows ${STORE_SCHEMA_VERSION}); ` +
            'upgrade @ferry/client',
        );
      }
      for (let version = current; version < STORE_SCHEMA_VERSION; version++) {
        for (const statement of STORE_MIGRATIONS[version] ?? []) await sql.execute(statement);
      }
      await sql.execute(
        "INSERT INTO ferry_kv (key, value) VALUES ('schemaVersion', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [String(STORE_SCHEMA_VERSION)],
      );
    });
  }

  /** Runs reads under the store lock, outside a transaction. */
  read<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.#lock.run(async () => {
      this.#assertOpen();
      return fn(new StoreTx(this.#driver));
    });
  }

  /**
   * Runs `fn` in one transaction under the store lock. Subscribers hear about it after the
   * commit, never about a rolled-back write.
   */
  async write<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    let tx: StoreTx | undefined;
    const result = await this.#lock.run(async () => {
      this.#assertOpen();
      return this.#driver.transaction(async (sql) => {
        tx = new StoreTx(sql);
        return fn(tx);
      });
    });
    if (tx && (tx.touchedTypes.size > 0 || tx.outboxTouched)) {
      this.#emit({ entityTypes: tx.touchedTypes, outbox: tx.outboxTouched });
    }
    return result;
  }

  /** Listens for committed writes; returns the unsubscribe function. */
  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  #emit(event: StoreChangeEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // A subscriber's bug must not break the write that already committed.
      }
    }
  }

  /** One entity with its sync metadata, tombstones included. */
  getEntity(entityType: string, entityId: string): Promise<LocalEntity | null> {
    return this.read((tx) => tx.getEntity(entityType, entityId));
  }

  /** The data of a live entity, or null (the seed's `get`). */
  async get(entityType: string, entityId: string): Promise<(RecordData & { id: string }) | null> {
    const entity = await this.getEntity(entityType, entityId);
    return entity && !entity.deleted && entity.data ? { ...entity.data, id: entity.entityId } : null;
  }

  /** Every live entity of a type (the seed's `getAll`). */
  getAll(entityType: string): Promise<Array<RecordData & { id: string }>> {
    return this.find(entityType);
  }

  /**
   * Live entities of a type, filtered by top-level field equality and ordered, in SQL.
   * Field names are checked before they reach a JSON path; values are always bound.
   */
  async find(entityType: string, options: FindOptions = {}): Promise<Array<RecordData & { id: string }>> {
    const params: SqlValue[] = [];
    let where = '';
    for (const [field, value] of Object.entries(options.where ?? {})) {
      const path = fieldPath(field);
      if (value === null) {
        where += ' AND json_extract(data, ?) IS NULL';
        params.push(path);
      } else {
        where += ' AND json_extract(data, ?) = ?';
        params.push(path, typeof value === 'boolean' ? (value ? 1 : 0) : value);
      }
    }
    let tail = '';
    if (options.orderBy !== undefined) {
      tail += ` ORDER BY json_extract(data, ?) ${options.order === 'desc' ? 'DESC' : 'ASC'}, entity_id`;
      params.push(fieldPath(options.orderBy));
    } else {
      tail += ' ORDER BY entity_id';
    }
    if (options.limit !== undefined || options.offset !== undefined) {
      tail += ' LIMIT ? OFFSET ?';
      params.push(nonNegativeInt(options.limit ?? -1, 'limit', true), nonNegativeInt(options.offset ?? 0, 'offset'));
    }
    const entities = await this.read((tx) => tx.findEntities(entityType, where, params, tail));
    return entities.map((entity) => ({ ...(entity.data ?? {}), id: entity.entityId }));
  }

  /**
   * Writes data straight into the store without recording a change (the seed's `upsert`,
   * used to apply server data). App writes go through `ChangeTracker` or a collection.
   */
  async upsert(entityType: string, entityId: string, data: RecordData): Promise<void> {
    await this.write(async (tx) => {
      const existing = await tx.getEntity(entityType, entityId);
      await tx.putEntity({
        entityType,
        entityId,
        data,
        deleted: false,
        version: existing?.version ?? 0,
        vector: existing?.vector ?? {},
        hlc: existing?.hlc ?? '000000000000000-000000-local',
        fieldHlcs: existing?.fieldHlcs ?? {},
        serverVersion: existing?.serverVersion ?? 0,
      });
    });
  }

  /** Removes an entity without recording a change (the seed's `delete`). */
  async delete(entityType: string, entityId: string): Promise<void> {
    await this.write((tx) => tx.removeEntity(entityType, entityId));
  }

  /** Number of changes waiting to be pushed (held ones included). */
  countPending(): Promise<number> {
    return this.read((tx) => tx.countPending());
  }

  /** Closes the database. Later calls fail with a clear error. */
  async close(): Promise<void> {
    await this.#lock.run(async () => {
      if (this.#closed) return;
      this.#closed = true;
      await this.#driver.close();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  #assertOpen(): void {
    if (this.#closed)
      throw new SyncError('UNKNOWN_ERROR', 'The local store is closed; open a new one', { retryable: false });
  }
}

function fieldPath(field: string): string {
  if (!isFieldName(field)) {
    throw new SyncError('VALIDATION_ERROR', `Invalid field name "${field.slice(0, 64)}" in a query`);
  }
  return `$.${field}`;
}

function nonNegativeInt(value: number, name: string, allowMinusOne = false): number {
  if (!Number.isInteger(value) || value < (allowMinusOne ? -1 : 0)) {
    throw new SyncError('VALIDATION_ERROR', `${name} must be a non-negative integer`);
  }
  return value;
}
