import { type Change, type ChangeResult, MEMBER_TYPE, memberUser, type Role, type ServerRecord } from '@ferry/protocol';
import Database from 'better-sqlite3';
import { DEFAULT_MAX_GROUP_ITEMS, GroupCommit, type Settled } from './GroupCommit.js';
import {
  type ApplyOptions,
  type ApplyOutcome,
  asSnapshotPage,
  type ChangeDecider,
  type CompactOptions,
  type CompactResult,
  type LoggedChange,
  type MembershipEffect,
  type Page,
  type PullJsonPage,
  type PullOptions,
  type PullPage,
  type ServerStorage,
  type SpaceState,
  type StorageInspection,
  type UnsequencedRecord,
} from './ServerStorage.js';
import {
  checkHorizon,
  compactSqlite,
  firstWriteAfterSqlite,
  inspectSqlite,
  pullHorizon,
} from './SqliteStorageCompact.js';
import { type PullJsonOptions, type PullJsonStatements, preparePullJson, pullJsonPage } from './sqlitePullJson.js';
import { MIGRATIONS, page, prepareStatements, recordKey, type Statements, toRecord } from './sqliteStatements.js';

/** A push waiting for its group commit. */
interface QueuedPush {
  scope: string;
  changes: readonly Change[];
  decide: ChangeDecider;
  options: ApplyOptions;
}

/** A push as its savepoint left it: the outcome, and whether it wrote anything. */
interface AppliedPush extends ApplyOutcome {
  wrote: boolean;
}

/**
 * Most changes in one group commit: a group holds the event loop for its whole apply, so a few
 * large pushes go in groups of their own instead of delaying everyone's answer.
 */
const MAX_GROUP_CHANGES = 2000;

/**
 * Pushes of at most this many changes read their current records and logged ids with one
 * primary-key probe per change; larger ones with one query per push over a JSON list of keys.
 */
const FEW_CHANGES = 8;

/** Options of {@link SqliteStorage}. */
export interface SqliteStorageOptions {
  /** How long a writer waits for another process's lock on the file (default 5 s). */
  busyTimeoutMs?: number;
  /** Wall clock (ms) stamped on writes for compaction; injectable for tests. */
  now?: () => number;
  /** Most pushes committed together in one transaction (default 64). */
  maxGroupPushes?: number;
  /**
   * When a group commit runs (default: the event loop's check phase). A deterministic simulation
   * holds it while it hands a burst of requests over, so a group's make-up never depends on how
   * fast real threads (WebCrypto) answered.
   */
  scheduleGroupCommit?: (flush: () => void) => void;
}

/**
 * {@link ServerStorage} on one SQLite file (better-sqlite3). WAL so readers never block the
 * writer; `synchronous = FULL` so an acknowledged push survives power loss, not only a crash.
 *
 * Group commit: pushes that arrive together (while the previous commit's fsync held the event
 * loop) are applied in ONE `BEGIN IMMEDIATE` transaction, each in its own savepoint, and made
 * durable by one COMMIT; each push's promise settles only after it ({@link GroupCommit}). A push
 * whose apply throws is rolled back to its savepoint and fails alone; the others commit.
 *
 * Gap-free sequences: the group's transaction is `BEGIN IMMEDIATE` and SQLite admits one writer
 * at a time, so seq values are taken and committed in the same order; inside a group, pushes run
 * one after another and a later push to the same scope reads the seq the earlier one left (or,
 * if that one was rolled back, the seq before it). (Several processes on one file stay correct
 * for the same reason; `busy_timeout` makes them wait, not fail.)
 *
 * @example
 * const storage = new SqliteStorage('./data/ferry.db');
 */
export class SqliteStorage implements ServerStorage {
  readonly path: string;
  #db: Database.Database;
  #statements: Statements;
  #pullJson: PullJsonStatements;
  readonly #group: GroupCommit<QueuedPush, ApplyOutcome>;
  readonly #commitListeners = new Set<(scope: string, seq: number) => void>();
  readonly #now: () => number;

  /** Opens (creating if needed) the database at `path`; `':memory:'` for a throwaway one. */
  constructor(path = ':memory:', options: SqliteStorageOptions = {}) {
    this.path = path;
    this.#now = options.now ?? Date.now;
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    this.#db.pragma('foreign_keys = ON');
    this.#migrate();
    this.#statements = prepareStatements(this.#db);
    this.#pullJson = preparePullJson(this.#db);
    // Called inside the group's transaction, better-sqlite3 runs each push as a SAVEPOINT: a
    // push that throws is rolled back alone, and the group goes on.
    const applyOne = this.#db.transaction((push: QueuedPush) => this.#applySync(push));
    const applyGroup = this.#db.transaction((pushes: readonly QueuedPush[]) =>
      pushes.map((push): Settled<AppliedPush> => {
        try {
          return { ok: true, value: applyOne(push) };
        } catch (error) {
          // Some errors (disk full, I/O) make SQLite roll back the whole transaction: then
          // nothing of the group is kept, and every push of it must fail.
          if (!this.#db.inTransaction) throw error;
          return { ok: false, error };
        }
      }),
    ).immediate;
    this.#group = new GroupCommit<QueuedPush, ApplyOutcome>(
      (pushes) => {
        const settled = applyGroup(pushes);
        // Only after the commit: a listener must never hear of a write that could still roll back.
        settled.forEach((outcome, index) => {
          if (outcome.ok && outcome.value.wrote) this.#emitCommit(pushes[index]?.scope as string, outcome.value.cursor);
        });
        return settled.map((outcome) =>
          outcome.ok ? { ok: true, value: { results: outcome.value.results, cursor: outcome.value.cursor } } : outcome,
        );
      },
      {
        maxItems: options.maxGroupPushes ?? DEFAULT_MAX_GROUP_ITEMS,
        weight: (push) => push.changes.length,
        maxWeight: MAX_GROUP_CHANGES,
        ...(options.scheduleGroupCommit ? { schedule: options.scheduleGroupCommit } : {}),
      },
    );
  }

  /** Pushes waiting for the next group commit. */
  get queuedPushes(): number {
    return this.#group.waiting;
  }

  /** The schema version this file is at. */
  get schemaVersion(): number {
    const row = this.#db.prepare('SELECT max(version) AS version FROM schema_version').get() as {
      version: number | null;
    };
    return row.version ?? 0;
  }

  #migrate(): void {
    this.#db.exec(
      'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)',
    );
    const current = this.schemaVersion;
    if (current > MIGRATIONS.length) {
      throw new Error(
        `Database ${this.path} is at schema version ${current}, newer than this server (${MIGRATIONS.length}); upgrade the server`,
      );
    }
    this.#db
      .transaction(() => {
        MIGRATIONS.slice(current).forEach((sql, index) => {
          this.#db.exec(sql);
          this.#db
            .prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)')
            .run(current + index + 1, Date.now());
        });
      })
      .immediate();
  }

  #getRecord(scope: string, entityType: string, entityId: string): ServerRecord | null {
    const row = this.#statements.getRecord.get(scope, entityType, entityId);
    return row ? toRecord(row) : null;
  }

  #applySync({ scope, changes, decide, options }: QueuedPush): AppliedPush {
    const s = this.#statements;
    const { actor } = options;
    let wrote = false;
    // Read inside the IMMEDIATE transaction: no membership change can commit between this and the writes.
    let actorRole = actor === undefined ? undefined : (s.roleOf.get(scope, actor)?.role ?? null);
    const results: ChangeResult[] = [];
    const first = s.currentSeq.get(scope)?.seq ?? 0;
    let seq = first;
    // Read once, then kept current in memory: the transaction is IMMEDIATE, the only writer.
    const records = new Map<string, ServerRecord>();
    const logged = new Set<string>();
    if (changes.length <= FEW_CHANGES) {
      // A few keys: a primary-key probe each costs less than building and walking a JSON list.
      for (const change of changes) {
        const row = s.getRecord.get(scope, change.entityType, change.entityId);
        if (row) records.set(recordKey(row.entity_type, row.entity_id), toRecord(row));
        if (s.isLogged.get(change.id, scope)) logged.add(change.id);
      }
    } else {
      for (const row of s.recordsIn.all(JSON.stringify(changes.map((c) => [c.entityType, c.entityId])), scope)) {
        records.set(recordKey(row.entity_type, row.entity_id), toRecord(row));
      }
      for (const row of s.loggedIn.all(JSON.stringify(changes.map((c) => c.id)), scope)) logged.add(row.change_id);
    }
    for (const change of changes) {
      const key = recordKey(change.entityType, change.entityId);
      const current = records.get(key) ?? null;
      const alreadyApplied = logged.has(change.id);
      const decision = decide({
        change,
        current,
        alreadyApplied,
        ...(actor === undefined ? {} : { actorRole }),
        ...(actor !== undefined && change.entityType === MEMBER_TYPE
          ? { roster: s.roster.get(memberUser(scope, change.entityId) ?? '', scope) }
          : {}),
      });
      if (decision.kind === 'skip') {
        results.push(decision.result);
        continue;
      }
      wrote = true;
      if (decision.effect) {
        this.#applyEffect(decision.effect);
        // A later change of the same push is decided under the role this one left.
        if (actor !== undefined) actorRole = s.roleOf.get(scope, actor)?.role ?? null;
      }
      seq++;
      const record = this.#write(scope, decision.record, seq);
      records.set(recordKey(record.entityType, record.entityId), record);
      const entry = decision.change;
      s.logChange.run(
        scope,
        entry.id,
        seq,
        entry.clientId,
        record.entityType,
        record.entityId,
        JSON.stringify(entry),
        this.#now(),
      );
      logged.add(entry.id);
      results.push({ changeId: change.id, status: 'applied', record });
    }
    if (seq !== first) s.setSeq.run(scope, seq);
    return { results, cursor: seq, wrote };
  }

  #applyEffect(effect: MembershipEffect): void {
    const s = this.#statements;
    if (effect.kind === 'space') {
      if (effect.createdBy === undefined) s.renameSpace.run(effect.name, effect.space);
      else {
        s.createSpace.run(effect.space, effect.name, effect.createdBy, this.#now());
        s.setMember.run(effect.space, effect.createdBy, 'owner');
      }
    } else if (effect.role === null) s.removeMember.run(effect.space, effect.user);
    else s.setMember.run(effect.space, effect.user, effect.role);
  }

  #write(scope: string, record: UnsequencedRecord, seq: number): ServerRecord {
    this.#statements.upsertRecord.run(
      scope,
      record.entityType,
      record.entityId,
      record.data === null ? null : JSON.stringify(record.data),
      record.deleted ? 1 : 0,
      record.version,
      JSON.stringify(record.vector),
      record.hlc,
      JSON.stringify(record.fieldHlcs),
      seq,
      record.clientId,
      record.changeId,
      this.#now(),
    );
    return { ...record, seq };
  }

  async applyChanges(
    scope: string,
    changes: readonly Change[],
    decide: ChangeDecider,
    options: ApplyOptions = {},
  ): Promise<ApplyOutcome> {
    // Settles after a turn of the event loop (the group's commit runs in its check phase): an
    // in-process caller that waits for it while spinning on already-resolved promises starves it.
    if (!this.#db.open) throw new Error(`Storage ${this.path} is closed`);
    return this.#group.enqueue({ scope, changes, decide, options });
  }

  /**
   * Calls `listener(pushes)` after every durable commit with the number of pushes it carried
   * (the group commit's size). Returns unsubscribe.
   */
  onGroupCommit(listener: (pushes: number) => void): () => void {
    return this.#group.onGroup(listener);
  }

  /** In-process only: another process writing the same file is not heard (use PostgreSQL to scale out). */
  onCommit(listener: (scope: string, seq: number) => void): () => void {
    this.#commitListeners.add(listener);
    return () => {
      this.#commitListeners.delete(listener);
    };
  }

  #emitCommit(scope: string, seq: number): void {
    for (const listener of [...this.#commitListeners]) {
      try {
        listener(scope, seq);
      } catch {
        // A failing listener must not turn a committed push into an error response.
      }
    }
  }

  async getRecord(scope: string, entityType: string, entityId: string): Promise<ServerRecord | null> {
    return this.#getRecord(scope, entityType, entityId);
  }

  async pull(scope: string, options: PullOptions): Promise<PullPage> {
    const { cursor, limit, types } = options;
    const rows =
      types === undefined
        ? this.#statements.pull.all(scope, cursor, limit + 1)
        : this.#statements.pullTypes.all(scope, cursor, JSON.stringify(types), limit + 1);
    if (cursor > 0 && !options.snapshot) checkHorizon(this.#db, scope, cursor, 'pull');
    const result: PullPage = page(rows.map(toRecord), limit);
    return options.snapshot ? asSnapshotPage(result, cursor, pullHorizon(this.#db, scope)) : result;
  }

  /**
   * {@link pull} (without `snapshot`) as response JSON, built by SQLite from the stored columns
   * (`sqlitePullJson.ts`): the JSON columns spliced in exactly as stored, nothing parsed and
   * serialised again. The same rows, order and horizon check as `pull`; the bytes are those of
   * `JSON.stringify` of `pull`'s records (same keys, same order).
   */
  pullJson(scope: string, options: PullJsonOptions): PullJsonPage | undefined {
    // A `pull` replaced on the instance (fault injection) must be honoured: this path would skip it.
    if (this.pull !== SqliteStorage.prototype.pull) return undefined;
    const page = pullJsonPage(this.#pullJson, scope, options);
    if (options.cursor > 0) checkHorizon(this.#db, scope, options.cursor, 'pull');
    return page;
  }

  async changesSince(scope: string, options: { since: number; limit: number }): Promise<Page<LoggedChange>> {
    const rows = this.#statements.changesSince.all(scope, options.since, options.limit + 1);
    checkHorizon(this.#db, scope, options.since, 'log');
    return page(
      rows.map((row) => ({ ...(JSON.parse(row.change) as Change), seq: row.seq })),
      options.limit,
    );
  }

  async listRecords(
    scope: string,
    entityType: string,
    options: { after?: string | undefined; limit: number },
  ): Promise<Page<ServerRecord>> {
    const rows = this.#statements.listRecords.all(scope, entityType, options.after ?? '', options.limit + 1);
    return page(rows.map(toRecord), options.limit);
  }

  async currentSeq(scope: string): Promise<number> {
    return this.#statements.currentSeq.get(scope)?.seq ?? 0;
  }

  async memberships(user: string): Promise<SpaceState[]> {
    return this.#statements.memberships.all(user);
  }

  async roleOf(space: string, user: string): Promise<Role | null> {
    return this.#statements.roleOf.get(space, user)?.role ?? null;
  }

  async members(space: string): Promise<string[]> {
    return this.#statements.members.all(space).map((row) => row.user_id);
  }

  async currentSeqs(scopes: readonly string[]): Promise<Map<string, number>> {
    const seqs = new Map<string, number>(scopes.map((scope) => [scope, 0]));
    for (const row of this.#statements.currentSeqs.all(JSON.stringify(scopes))) seqs.set(row.scope, row.seq);
    return seqs;
  }

  async compact(options: CompactOptions): Promise<CompactResult> {
    return compactSqlite(this.#db, options);
  }

  async inspect(scopes: readonly string[]): Promise<StorageInspection> {
    return inspectSqlite(this.#db, this.path, scopes);
  }

  async firstWriteAfter(cursors: ReadonlyArray<{ scope: string; cursor: number }>): Promise<Array<number | null>> {
    return firstWriteAfterSqlite(this.#db, cursors);
  }

  async close(): Promise<void> {
    if (!this.#db.open) return;
    // Pushes already queued were accepted: commit them before the file closes.
    this.#group.drain();
    // Fold the WAL back into the main file so a copied .db file is complete on its own.
    this.#db.pragma('wal_checkpoint(TRUNCATE)');
    this.#db.close();
  }
}
