import type { EntitySchema, RecordData, Schema } from '@ferry/protocol';
import { SyncError } from '../errors.js';
import { Emitter } from '../util/Emitter.js';
import { Mutex } from '../util/Mutex.js';
import { type CompiledQuery, compileQuery } from './compileQuery.js';
import { LiveQuery } from './LiveQuery.js';
import { migrateStore } from './migrateStore.js';
import { checkReadOnlySql } from './readOnlySql.js';
import { type ChangeRecorder, deleteIn, requireRecorder, upsertIn } from './recordWrites.js';
import type { SqlDriver, SqlRow, SqlValue } from './SqlDriver.js';
import { StoreTx } from './StoreTx.js';
import {
  checkParams,
  declaredEntity,
  queryKey,
  type Row,
  readOnly,
  rowToRecord,
  sqlReadSet,
  withSpace,
} from './storeReads.js';
import type { FindOptions, KeyValueStore, LocalEntity, StoreChangeEvent } from './types.js';

export type { ChangeRecorder } from './recordWrites.js';
export { withSpace } from './storeReads.js';

/** Options of {@link LocalStore.open}. */
export interface LocalStoreOptions {
  /**
   * The declared entity types (from `defineSchema` or a schema file, the server's own). The
   * store keeps an index per indexed field, a view per type for SQL reads, and checks queries
   * and writes against it. A changed schema is applied when the store opens.
   */
  schema?: Schema;
}

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
  readonly #commits = new Emitter<StoreChangeEvent>({ isolateErrors: true });
  readonly #schema: Schema | undefined;
  #closed = false;
  #recorder: ChangeRecorder | undefined;
  /** The outbox's row count as of the last commit, when known: a write adds its own rows to it. */
  #pendingCount: number | undefined;

  /** An AsyncStorage-shaped view of the store's key-value table (sync state lives here). */
  readonly kv: KeyValueStore;

  private constructor(driver: SqlDriver, schema: Schema | undefined) {
    this.#driver = driver;
    this.#schema = schema;
    this.kv = {
      getItem: (key) => this.read((tx) => tx.getKv(key)),
      setItem: (key, value) => this.write((tx) => tx.setKv(key, value)),
      removeItem: (key) => this.write((tx) => tx.deleteKv(key)),
    };
  }

  /**
   * Opens a store on a driver, creating or migrating its tables and, with a `schema`, its
   * indexes and views: all in one transaction, so a failed upgrade leaves the file as it was.
   */
  static async open(driver: SqlDriver, options: LocalStoreOptions = {}): Promise<LocalStore> {
    const store = new LocalStore(driver, options.schema);
    await migrateStore(driver, options.schema);
    return store;
  }

  /** The declared schema the store was opened with, if any. */
  get schema(): Schema | undefined {
    return this.#schema;
  }

  /**
   * The declared schema of an entity type; undefined without a store schema. With one, an
   * undeclared type is a clear error rather than a query that can never match.
   */
  entitySchema(entityType: string): EntitySchema | undefined {
    return declaredEntity(this.#schema, entityType);
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
    let pendingChanges: number | undefined;
    const recorder = this.#recorder;
    const result = await this.#lock.run(async () => {
      this.#assertOpen();
      let committed: (() => void) | undefined;
      const value = await this.#driver.transaction(async (sql) => {
        tx = new StoreTx(sql);
        await recorder?.beginWrite?.(tx);
        const value = await fn(tx);
        // Known in the transaction, so listeners know the exact count the moment the write
        // commits: the count before plus the rows it added, or a COUNT (which reads the whole
        // outbox) when the count before is unknown or arbitrary SQL ran.
        if (tx.outboxTouched) {
          const { outboxDelta } = tx;
          const known = this.#pendingCount;
          pendingChanges = known !== undefined && outboxDelta !== null ? known + outboxDelta : await tx.countPending();
        }
        committed = await recorder?.beforeCommit?.(tx);
        return value;
      });
      committed?.();
      const done = tx as StoreTx;
      if (pendingChanges !== undefined) this.#pendingCount = pendingChanges;
      else if (done.outboxDelta === null) this.#pendingCount = undefined;
      return value;
    });
    if (tx && (tx.touchedTypes.size > 0 || tx.outboxTouched)) {
      this.#commits.emit({
        entityTypes: tx.touchedTypes,
        outbox: tx.outboxTouched,
        ...(pendingChanges === undefined ? {} : { pendingChanges }),
      });
    }
    return result;
  }

  /**
   * Listens for committed writes; returns the unsubscribe function. A listener that throws
   * does not affect the write, which has committed, or the other listeners.
   */
  subscribe(listener: Listener): () => void {
    return this.#commits.subscribe(listener);
  }

  /** One entity with its sync metadata, tombstones included. */
  getEntity(entityType: string, entityId: string): Promise<LocalEntity | null> {
    return this.read((tx) => tx.getEntity(entityType, entityId));
  }

  /** The data of a live entity, or null. */
  async get(entityType: string, entityId: string): Promise<(RecordData & { id: string }) | null> {
    const entity = await this.getEntity(entityType, entityId);
    return entity && !entity.deleted && entity.data
      ? withSpace({ ...entity.data, id: entity.entityId }, entity.space ?? null)
      : null;
  }

  /** Every live entity of a type. */
  getAll(entityType: string): Promise<Array<RecordData & { id: string }>> {
    return this.find(entityType);
  }

  /**
   * Live entities of a type, filtered, sorted and paged in SQLite (see {@link FindOptions}).
   * With a schema, fields and values are checked against it and declared indexes are used;
   * values are always bound.
   */
  async find(entityType: string, options: FindOptions = {}): Promise<Row[]> {
    return this.#select(this.#compile(entityType, options));
  }

  /**
   * How many live entities of a type match `where` (in SQLite, on the declared indexes);
   * `space` narrows it to one space as in {@link find}.
   */
  async count(entityType: string, where?: FindOptions['where'], scope: CountScope = {}): Promise<number> {
    return this.#count(this.#compile(entityType, countOptions(where, scope)));
  }

  /**
   * A {@link LiveQuery} over one entity type: `run()` once, or `subscribe()` to hear the result
   * after every committed write that changed it. The options are checked now, not on first run.
   */
  query(entityType: string, options: FindOptions = {}): LiveQuery<Row[]> {
    const compiled = this.#compile(entityType, options);
    return new LiveQuery(
      this,
      new Set([entityType]),
      () => this.#select(compiled),
      queryKey(entityType, compiled, 'rows'),
    );
  }

  /** A {@link LiveQuery} of the count of `where`'s matches (in `scope.space` only, when given). */
  countQuery(entityType: string, where?: FindOptions['where'], scope: CountScope = {}): LiveQuery<number> {
    const compiled = this.#compile(entityType, countOptions(where, scope));
    return new LiveQuery(
      this,
      new Set([entityType]),
      () => this.#count(compiled),
      queryKey(entityType, compiled, 'count'),
    );
  }

  /**
   * Runs one read-only SQL statement with bound parameters. Each declared entity type is a
   * view named after it (`id` plus its declared fields), so apps can join, aggregate and
   * search with SQLite itself. Anything but a single read is refused: writes go through
   * collections so the outbox stays exact.
   *
   * @example
   * const rows = await store.sql('SELECT completed, COUNT(*) AS n FROM todos WHERE dueAt < ? GROUP BY completed', [now]);
   */
  async sql(text: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    checkReadOnlySql(text);
    return this.#readSql(text, params);
  }

  /**
   * A {@link LiveQuery} over one read-only SQL statement. It re-runs after writes to the entity
   * types whose views it names (any write at all when it reads `ferry_entities` itself).
   */
  sqlQuery(text: string, params: readonly SqlValue[] = []): LiveQuery<SqlRow[]> {
    const reads = sqlReadSet(this.#schema, checkReadOnlySql(text).identifiers);
    const bound = checkParams(params);
    return new LiveQuery(this, reads, () => this.#readSql(text, bound), JSON.stringify(['sql', text, bound]));
  }

  #readSql(text: string, params: readonly SqlValue[]): Promise<SqlRow[]> {
    const bound = checkParams(params);
    return this.#lock.run(async () => {
      this.#assertOpen();
      return readOnly(this.#driver, text, bound);
    });
  }

  #compile(entityType: string, options: FindOptions): CompiledQuery {
    return compileQuery(
      { entityType, entity: this.entitySchema(entityType) },
      options as unknown as FindOptions<never>,
    );
  }

  #select(compiled: CompiledQuery): Promise<Row[]> {
    return this.#lock.run(async () => {
      this.#assertOpen();
      const { rows } = await this.#driver.execute(compiled.select.sql, compiled.select.params);
      return rows.map(rowToRecord);
    });
  }

  #count(compiled: CompiledQuery): Promise<number> {
    return this.#lock.run(async () => {
      this.#assertOpen();
      const { rows } = await this.#driver.execute(compiled.count.sql, compiled.count.params);
      return Number(rows[0]?.n ?? 0);
    });
  }

  /**
   * Binds what records this store's writes as changes: the first {@link ChangeTracker} made on
   * the store calls it. {@link upsert} and {@link delete} go through it.
   */
  useRecorder(recorder: ChangeRecorder): void {
    this.#recorder ??= recorder;
  }

  /** What records this store's writes (its first ChangeTracker), if one was made. */
  get recorder(): ChangeRecorder | undefined {
    return this.#recorder;
  }

  /**
   * Writes a record: created when missing or deleted, else its given
   * fields updated. Recorded like any app write, so it syncs: the row and its outbox entry
   * commit together.
   */
  async upsert(entityType: string, entityId: string, data: RecordData): Promise<void> {
    const recorder = requireRecorder(this.#recorder, 'upsert');
    await this.write((tx) => upsertIn(tx, recorder, entityType, entityId, data));
  }

  /** Deletes a record: a tombstone that syncs. A missing record is a no-op. */
  async delete(entityType: string, entityId: string): Promise<void> {
    const recorder = requireRecorder(this.#recorder, 'delete');
    await this.write((tx) => deleteIn(tx, recorder, entityType, entityId));
  }

  /**
   * Takes changes the server acknowledged off the outbox (`BatchSync` calls it for each change
   * the server accepted). Unknown ids are ignored: a replayed acknowledgement changes nothing.
   */
  async markAsSynced(changeId: string | readonly string[]): Promise<void> {
    const ids = typeof changeId === 'string' ? [changeId] : changeId;
    await this.write(async (tx) => {
      for (const id of ids) await tx.removeChange(id);
    });
  }

  /** Number of changes waiting to be pushed (held ones included). */
  countPending(): Promise<number> {
    return this.read(async (tx) => {
      this.#pendingCount = await tx.countPending();
      return this.#pendingCount;
    });
  }

  /** Closes the database. Later calls fail with a clear error. */
  async close(): Promise<void> {
    await this.#lock.run(async () => {
      if (this.#closed) return;
      this.#closed = true;
      await this.#driver.close();
    });
  }

  /** The SQL driver's name (`better-sqlite3`, `op-sqlite`, …), or `custom` when it gives none. */
  get driverName(): string {
    return this.#driver.name ?? 'custom';
  }

  get closed(): boolean {
    return this.#closed;
  }

  #assertOpen(): void {
    if (this.#closed)
      throw new SyncError('UNKNOWN_ERROR', 'The local store is closed; open a new one', { retryable: false });
  }
}

/** Narrows a count to one space: a shared space id, or null for the private space. */
export interface CountScope {
  space?: string | null;
}

function countOptions(where: FindOptions['where'] | undefined, { space }: CountScope): FindOptions {
  return { ...(where === undefined ? {} : { where }), ...(space === undefined ? {} : { space }) };
}
