import type { Change } from '@ferry/protocol';
import { EntityMap } from './EntityMap.js';
import type { SqlExecutor, SqlValue } from './SqlDriver.js';
import {
  DELETE_CHANGES_IN,
  entityFromRow,
  entityParams,
  INSERT_CHUNKS,
  INSERT_ENTITIES,
  OUTBOX_COLUMNS,
  outboxFromRow,
  RANGE_PROBE_LIMIT,
  SELECT_ENTITIES_IN,
  SELECT_ENTITY,
  SELECT_IDS_IN_RANGE,
  SELECT_PENDING_AFTER,
  SELECT_PENDING_FOR,
  SELECT_PENDING_IN,
  SELECT_PUSHABLE_AFTER,
  SET_SERVER_VERSION,
  SET_SERVER_VERSIONS_AS_SENT,
  stripOutbox,
  UPSERT_ENTITY,
} from './storeRows.js';
import type { DeadLetter, LocalEntity, OutboxEntry } from './types.js';

export { stripOutbox } from './storeRows.js';

/** An entity's key in the prefetch caches (and in {@link StoreTx.setServerVersionsAsSent}'s answer). */
export function entityKey(entityType: string, entityId: string): string {
  return `${entityType}\u0000${entityId}`;
}

// Outside ASCII, the order SQLite's BINARY collation compares ids in (bytes of the database's
// encoding) and JavaScript's (UTF-16 code units) can differ; inside it they agree in every encoding.
// biome-ignore lint/suspicious/noControlCharactersInRegex: ASCII is the range tested
const NOT_ASCII = /[^\u0000-\u007f]/;
/** Entity types per page up to which a range probe per type is tried. */
const MAX_PROBED_TYPES = 4;

/**
 * The smallest and largest id of each type among `keys`, when every id is ASCII and there are
 * at most {@link MAX_PROBED_TYPES} types; otherwise `undefined`.
 */
function idRanges(keys: Iterable<[string, string]>): Map<string, [string, string]> | undefined {
  const ranges = new Map<string, [string, string]>();
  for (const [entityType, entityId] of keys) {
    if (NOT_ASCII.test(entityId)) return undefined;
    const range = ranges.get(entityType);
    if (!range) {
      if (ranges.size === MAX_PROBED_TYPES) return undefined;
      ranges.set(entityType, [entityId, entityId]);
    } else if (entityId < range[0]) range[0] = entityId;
    else if (entityId > range[1]) range[1] = entityId;
  }
  return ranges;
}

/**
 * Every statement the engine runs against the local database, over one executor: the
 * store's connection for reads, or an open transaction for writes. Records what it touched
 * so the store can notify subscribers after commit.
 */
export class StoreTx {
  readonly #sql: SqlExecutor;
  readonly touchedTypes = new Set<string>();
  outboxTouched = false;
  /**
   * What this transaction left as the outbox's newest row (highest `seq`), for the clock's
   * recovery (see `ChangeTracker`): `undefined` when it did not touch the outbox's tail, the
   * change's stamp when the newest row is a change it queued, `null` when it may have removed the
   * newest row or ran arbitrary SQL (the newest row is then unknown).
   */
  outboxTail: string | null | undefined = undefined;
  /** Rows this transaction added to the outbox (negative: removed); null after arbitrary SQL. */
  outboxDelta: number | null = 0;
  /**
   * Whether the outbox is known to be empty, for this executor's lifetime under the store
   * lock; `undefined` when unknown. Lets a pull into a device with nothing pending skip one
   * outbox lookup per record.
   */
  #outboxEmpty: boolean | undefined;
  /**
   * Entities (by type and id) and pending changes (by {@link entityKey}) loaded by {@link prefetch}: a page of
   * records needs two queries instead of two per record. A write to a key drops it from the
   * cache (the next read goes to the database); raw `execute` drops everything.
   */
  #entities = new EntityMap<LocalEntity | null>();
  #pending = new Map<string, OutboxEntry[]>();
  /** Change id → cache key, so removing a change can update its entity's cached list. */
  #pendingKeys = new Map<string, string>();

  constructor(sql: SqlExecutor) {
    this.#sql = sql;
  }

  execute(sql: string, params?: readonly SqlValue[]) {
    // Arbitrary SQL may write the outbox or the entities.
    this.#outboxEmpty = undefined;
    this.outboxTail = null;
    this.outboxDelta = null;
    this.#dropCaches();
    return this.#sql.execute(sql, params);
  }

  /**
   * Loads the entities and (unless `pending: false`) the pending changes of `keys` in one query
   * each, for the {@link getEntity} and {@link pendingFor} calls that follow in this transaction.
   * The objects returned from the cache are shared: callers must not mutate them.
   *
   * `mostlyNew` (a pulled page) first asks, per entity type, which ids the device holds between
   * the page's smallest and largest id: when that range holds few rows (always, for pages of
   * new records with ordered ids), only the keys found there are loaded, and every other key is
   * known absent without a look-up. Otherwise, or for ids outside ASCII, every key is looked up.
   */
  async prefetch(
    keys: Iterable<{ entityType: string; entityId: string }>,
    options: { pending?: boolean; mostlyNew?: boolean } = {},
  ): Promise<void> {
    // Each key once, in the order of its first record.
    const unique = new EntityMap<true>();
    const pairs: Array<[string, string]> = [];
    for (const { entityType, entityId } of keys) {
      if (unique.has(entityType, entityId)) continue;
      unique.set(entityType, entityId, true);
      pairs.push([entityType, entityId]);
    }
    if (pairs.length === 0) return;
    for (const [entityType, entityId] of pairs) this.#entities.set(entityType, entityId, null);
    const held = options.mostlyNew ? await this.#heldInRanges(unique, pairs) : undefined;
    if (held === undefined || held.length > 0) {
      const entities = await this.#sql.execute(SELECT_ENTITIES_IN, [JSON.stringify(held ?? pairs)]);
      for (const row of entities.rows) {
        const entity = entityFromRow(row);
        this.#entities.set(entity.entityType, entity.entityId, entity);
      }
    }
    if (options.pending === false || (await this.#isOutboxEmpty())) return;
    for (const [entityType, entityId] of pairs) this.#pending.set(entityKey(entityType, entityId), []);
    const pending = await this.#sql.execute(SELECT_PENDING_IN, [JSON.stringify(pairs)]);
    for (const row of pending.rows) {
      const entry = outboxFromRow(row);
      const key = entityKey(entry.entityType, entry.entityId);
      this.#pending.get(key)?.push(entry);
      this.#pendingKeys.set(entry.id, key);
    }
  }

  /**
   * The keys of `unique` (listed in `pairs`) the entity table holds, found by one index range read per type; or
   * `undefined` when that cannot tell (ids outside ASCII, many types, a range holding more than
   * {@link RANGE_PROBE_LIMIT} rows). A key absent from the answer is absent from the table: its
   * id lies inside its type's range, and the range was read whole.
   */
  async #heldInRanges(
    unique: EntityMap<true>,
    pairs: ReadonlyArray<[string, string]>,
  ): Promise<[string, string][] | undefined> {
    const ranges = idRanges(pairs);
    if (!ranges) return undefined;
    const held: [string, string][] = [];
    for (const [entityType, [low, high]] of ranges) {
      const { rows } = await this.#sql.execute(SELECT_IDS_IN_RANGE, [entityType, low, high]);
      if (rows.length > RANGE_PROBE_LIMIT) return undefined;
      for (const row of rows) {
        const entityId = String(row.entity_id);
        if (unique.has(entityType, entityId)) held.push([entityType, entityId]);
      }
    }
    return held;
  }

  #dropCaches(): void {
    this.#entities.clear();
    this.#pending.clear();
    this.#pendingKeys.clear();
  }

  #dropPending(key: string): void {
    const list = this.#pending.get(key);
    if (!list) return;
    for (const entry of list) this.#pendingKeys.delete(entry.id);
    this.#pending.delete(key);
  }

  async #isOutboxEmpty(): Promise<boolean> {
    if (this.#outboxEmpty === undefined) {
      const { rows } = await this.#sql.execute('SELECT EXISTS (SELECT 1 FROM ferry_outbox) AS any');
      this.#outboxEmpty = rows[0]?.any === 0;
    }
    return this.#outboxEmpty;
  }

  // entities

  async getEntity(entityType: string, entityId: string): Promise<LocalEntity | null> {
    const cached = this.#entities.get(entityType, entityId);
    if (cached !== undefined) return cached;
    const { rows } = await this.#sql.execute(SELECT_ENTITY, [entityType, entityId]);
    if (rows[0]) return entityFromRow(rows[0]);
    // Known absent until this transaction writes the key (which drops it from the cache): an
    // insert that checks for the row before recording its change reads it once.
    this.#entities.set(entityType, entityId, null);
    return null;
  }

  async putEntity(entity: LocalEntity): Promise<void> {
    await this.#sql.execute(UPSERT_ENTITY, entityParams(entity));
    this.#entities.delete(entity.entityType, entity.entityId);
    this.touchedTypes.add(entity.entityType);
  }

  /**
   * True, once per key, when the last {@link prefetch} found no row for it: the caller is about
   * to insert it with {@link insertEntities}. The key leaves the cache, so a second record of
   * the same key (read after that insert) goes to the database and finds the row.
   */
  claimAbsent(entityType: string, entityId: string): boolean {
    if (this.#entities.get(entityType, entityId) !== null) return false;
    this.#entities.delete(entityType, entityId);
    return true;
  }

  /**
   * Inserts entities the device does not hold (see {@link claimAbsent}), many rows per
   * statement: a page of new records costs a few statements instead of one per record. A row
   * that exists after all fails the insert (and so the transaction) rather than being replaced.
   */
  async insertEntities(entities: readonly LocalEntity[]): Promise<void> {
    let offset = 0;
    for (const rows of INSERT_CHUNKS) {
      const sql = INSERT_ENTITIES.get(rows) as string;
      for (; entities.length - offset >= rows; offset += rows) {
        const params: SqlValue[] = [];
        for (let index = offset; index < offset + rows; index++) {
          const entity = entities[index] as LocalEntity;
          params.push(...entityParams(entity));
          this.#entities.delete(entity.entityType, entity.entityId);
          this.touchedTypes.add(entity.entityType);
        }
        await this.#sql.execute(sql, params);
      }
    }
  }

  /**
   * Records the server's version of an entity whose state the device already holds (a push
   * acknowledged with exactly the state it sent): no re-serialisation of the row.
   */
  async setServerVersion(entityType: string, entityId: string, version: number, serverVersion: number): Promise<void> {
    await this.#sql.execute(SET_SERVER_VERSION, [version, serverVersion, entityType, entityId]);
    this.#entities.delete(entityType, entityId);
    this.touchedTypes.add(entityType);
  }

  /**
   * {@link setServerVersion} for many acknowledged changes at once, each applied only where the
   * entity still holds exactly the state its change (still in the outbox) left, field stamps
   * `fieldHlcs` (the column as `fieldHlcsColumn` writes it) included, and the version is news. Returns the keys ({@link entityKey})
   * of the entities it updated; the caller settles the others one by one.
   */
  async setServerVersionsAsSent(
    acks: ReadonlyArray<{ changeId: string; entityType: string; entityId: string; version: number; fieldHlcs: string }>,
  ): Promise<Set<string>> {
    const updated = new Set<string>();
    if (acks.length === 0) return updated;
    const param = JSON.stringify(acks.map((ack) => [ack.changeId, ack.version, ack.fieldHlcs]));
    // Nearly always every entity holds its change's state: then the row count says so, and no
    // row needs to come back (RETURNING makes SQLite collect every row first). Otherwise the
    // statement is undone and run again, naming the rows it updated.
    await this.#sql.execute('SAVEPOINT ferry_acks');
    const { rowsAffected } = await this.#sql.execute(SET_SERVER_VERSIONS_AS_SENT, [param]);
    if (rowsAffected === acks.length) {
      await this.#sql.execute('RELEASE ferry_acks');
      for (const ack of acks) updated.add(entityKey(ack.entityType, ack.entityId));
    } else {
      await this.#sql.execute('ROLLBACK TO ferry_acks');
      await this.#sql.execute('RELEASE ferry_acks');
      const { rows } = await this.#sql.execute(`${SET_SERVER_VERSIONS_AS_SENT} RETURNING entity_type, entity_id`, [
        param,
      ]);
      for (const row of rows) updated.add(entityKey(String(row.entity_type), String(row.entity_id)));
    }
    for (const ack of acks) {
      const key = entityKey(ack.entityType, ack.entityId);
      if (!updated.has(key)) continue;
      this.#entities.delete(ack.entityType, ack.entityId);
      this.touchedTypes.add(ack.entityType);
    }
    return updated;
  }

  async removeEntity(entityType: string, entityId: string): Promise<void> {
    await this.#sql.execute('DELETE FROM ferry_entities WHERE entity_type = ? AND entity_id = ?', [
      entityType,
      entityId,
    ]);
    this.#entities.delete(entityType, entityId);
    this.touchedTypes.add(entityType);
  }

  // outbox

  /**
   * Queues a change. It is held when its entity's changes already are (a parked conflict): a
   * write made while the user has not decided waits with them, so it cannot reach the server
   * as a patch over a state that lacks the held changes, and the decision covers it.
   */
  async insertChange(change: Change): Promise<void> {
    await this.#sql.execute(
      `INSERT INTO ferry_outbox (change_id, entity_type, entity_id, operation, data, timestamp, hlc, version, vector,
         client_id, field_hlcs, space, held) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
         EXISTS (SELECT 1 FROM ferry_outbox WHERE entity_type = ? AND entity_id = ? AND held = 1))`,
      [
        change.id,
        change.entityType,
        change.entityId,
        change.operation,
        change.data === null ? null : JSON.stringify(change.data),
        change.timestamp,
        change.hlc,
        change.version,
        JSON.stringify(change.vector),
        change.clientId,
        change.fieldHlcs ? JSON.stringify(change.fieldHlcs) : null,
        change.space ?? null,
        change.entityType,
        change.entityId,
      ],
    );
    this.outboxTouched = true;
    this.#outboxEmpty = false;
    // AUTOINCREMENT: the row's seq is above every seq the outbox ever held, so it is the newest.
    this.outboxTail = change.hlc;
    if (this.outboxDelta !== null) this.outboxDelta++;
    this.#dropPending(entityKey(change.entityType, change.entityId));
  }

  /** The stamp of the outbox's newest change (highest `seq`), or null when the outbox is empty. */
  async newestQueuedHlc(): Promise<string | null> {
    const { rows } = await this.#sql.execute('SELECT hlc FROM ferry_outbox ORDER BY seq DESC LIMIT 1');
    return rows[0] ? String(rows[0].hlc) : null;
  }

  /** Pending changes in queue order; held ones only when asked. */
  async pendingChanges(limit: number, includeHeld = false): Promise<OutboxEntry[]> {
    const { rows } = await this.#sql.execute(
      `SELECT ${OUTBOX_COLUMNS} FROM ferry_outbox ${includeHeld ? '' : 'WHERE held = 0'} ORDER BY seq LIMIT ?`,
      [limit],
    );
    return rows.map(outboxFromRow);
  }

  /** Pending, not held changes queued after outbox position `seq`, in queue order. */
  async pendingChangesAfter(seq: number, limit: number): Promise<OutboxEntry[]> {
    const { rows } = await this.#sql.execute(SELECT_PENDING_AFTER, [seq, limit]);
    return rows.map(outboxFromRow);
  }

  /**
   * What {@link pendingChangesAfter} reads, as each change's wire JSON (`JSON.stringify` of its
   * {@link stripOutbox}) with its outbox position: the push sends these texts as they are.
   */
  async pushableChangesAfter(seq: number, limit: number): Promise<Array<{ seq: number; json: string }>> {
    const { rows } = await this.#sql.execute(SELECT_PUSHABLE_AFTER, [seq, limit]);
    return rows.map((row) => ({ seq: Number(row.seq), json: String(row.change) }));
  }

  async pendingFor(entityType: string, entityId: string): Promise<OutboxEntry[]> {
    const cached = this.#pending.get(entityKey(entityType, entityId));
    if (cached !== undefined) return cached;
    if (await this.#isOutboxEmpty()) return [];
    const { rows } = await this.#sql.execute(SELECT_PENDING_FOR, [entityType, entityId]);
    return rows.map(outboxFromRow);
  }

  async pendingSince(timestamp: number): Promise<OutboxEntry[]> {
    const { rows } = await this.#sql.execute(
      `SELECT ${OUTBOX_COLUMNS} FROM ferry_outbox WHERE timestamp > ? ORDER BY seq`,
      [timestamp],
    );
    return rows.map(outboxFromRow);
  }

  /** Changes in the outbox; held ones (awaiting a manual resolution) too unless told otherwise. */
  async countPending(includeHeld = true): Promise<number> {
    const { rows } = await this.#sql.execute(
      `SELECT COUNT(*) AS n FROM ferry_outbox${includeHeld ? '' : ' WHERE held = 0'}`,
    );
    return Number(rows[0]?.n ?? 0);
  }

  async removeChange(changeId: string): Promise<boolean> {
    const { rowsAffected } = await this.#sql.execute('DELETE FROM ferry_outbox WHERE change_id = ?', [changeId]);
    if (rowsAffected > 0) this.#outboxShrunk(rowsAffected);
    this.#forgetPending(changeId);
    return rowsAffected > 0;
  }

  #outboxShrunk(removed: number): void {
    this.outboxTouched = true;
    this.outboxTail = null;
    if (this.outboxDelta !== null) this.outboxDelta -= removed;
  }

  /** Drops a removed change from the prefetched pending lists. */
  #forgetPending(changeId: string): void {
    const key = this.#pendingKeys.get(changeId);
    if (key === undefined) return;
    this.#pendingKeys.delete(changeId);
    // A new array: a caller may be iterating the list it was given.
    const list = this.#pending.get(key);
    if (list)
      this.#pending.set(
        key,
        list.filter((entry) => entry.id !== changeId),
      );
  }

  /** {@link removeChange} for many changes, in one statement. */
  async removeChanges(changeIds: readonly string[]): Promise<void> {
    if (changeIds.length === 0) return;
    const { rowsAffected } = await this.#sql.execute(DELETE_CHANGES_IN, [JSON.stringify(changeIds)]);
    if (rowsAffected > 0) this.#outboxShrunk(rowsAffected);
    for (const changeId of changeIds) this.#forgetPending(changeId);
  }

  async setHeld(entityType: string, entityId: string, held: boolean): Promise<void> {
    await this.#sql.execute('UPDATE ferry_outbox SET held = ? WHERE entity_type = ? AND entity_id = ?', [
      held ? 1 : 0,
      entityType,
      entityId,
    ]);
    this.#dropPending(entityKey(entityType, entityId));
    this.outboxTouched = true;
  }

  async recordAttempt(changeId: string, error: string): Promise<void> {
    await this.#sql.execute('UPDATE ferry_outbox SET attempts = attempts + 1, last_error = ? WHERE change_id = ?', [
      error,
      changeId,
    ]);
    const key = this.#pendingKeys.get(changeId);
    if (key !== undefined) this.#dropPending(key);
  }

  // dead letters

  async addDeadLetter(change: Change, error: { code: string; message: string }, now: number): Promise<void> {
    await this.#sql.execute(
      `INSERT OR REPLACE INTO ferry_dead_letters (change_id, change, error, failed_at) VALUES (?, ?, ?, ?)`,
      [change.id, JSON.stringify(stripOutbox(change)), JSON.stringify(error), now],
    );
  }

  async deadLetters(): Promise<DeadLetter[]> {
    const { rows } = await this.#sql.execute(
      'SELECT change, error, failed_at FROM ferry_dead_letters ORDER BY failed_at, change_id',
    );
    return rows.map((row) => ({
      change: JSON.parse(String(row.change)) as Change,
      error: JSON.parse(String(row.error)) as DeadLetter['error'],
      failedAt: Number(row.failed_at),
    }));
  }

  async removeDeadLetter(changeId: string): Promise<void> {
    await this.#sql.execute('DELETE FROM ferry_dead_letters WHERE change_id = ?', [changeId]);
  }

  // key-value

  async getKv(key: string): Promise<string | null> {
    const { rows } = await this.#sql.execute('SELECT value FROM ferry_kv WHERE key = ?', [key]);
    return rows[0] ? String(rows[0].value) : null;
  }

  async setKv(key: string, value: string): Promise<void> {
    await this.#sql.execute(
      'INSERT INTO ferry_kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      [key, value],
    );
  }

  /**
   * Sets `key` to `value` unless it already holds a value that sorts after it: a value that only
   * ever rises (the clock's last stamp, whose string form sorts by time).
   */
  async raiseKv(key: string, value: string): Promise<void> {
    await this.#sql.execute(
      `INSERT INTO ferry_kv (key, value) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE excluded.value > ferry_kv.value`,
      [key, value],
    );
  }

  async deleteKv(key: string): Promise<void> {
    await this.#sql.execute('DELETE FROM ferry_kv WHERE key = ?', [key]);
  }
}
