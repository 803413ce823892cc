import type { Change, Role, ServerRecord } from '@ferry/protocol';
import pg from 'pg';
import { PostgresRateCounter } from '../rateLimit/PostgresRateCounter.js';
import type { RateCounter } from '../rateLimit/RateCounter.js';
import { applyChangesPostgres } from './PostgresStorageApply.js';
import { compactPostgres, firstWriteAfterPostgres, inspectPostgres } from './PostgresStorageCompact.js';
import { PostgresCommitFeed } from './PostgresStorageListener.js';
import { migratePostgres, RECORD_COLUMNS, type RecordRow, toRecord } from './PostgresStorageSchema.js';
import {
  type ApplyOptions,
  type ApplyOutcome,
  asSnapshotPage,
  type ChangeDecider,
  type CompactOptions,
  type CompactResult,
  CursorExpiredError,
  type LoggedChange,
  type Page,
  type PullOptions,
  type PullPage,
  type ServerStorage,
  type SpaceState,
  type StorageInspection,
} from './ServerStorage.js';

/** Options of {@link PostgresStorage.open}. */
export interface PostgresStorageOptions {
  /** `postgres://user:pass@host:port/db`. */
  connectionString: string;
  /** Pool size per process (default 10). Processes × max must stay under `max_connections`. */
  maxConnections?: number;
  /** Waiting for a pooled connection or a new one (default 5 s). */
  connectionTimeoutMs?: number;
  /** Server-side cap on one statement, lock waits included (default 10 s). */
  statementTimeoutMs?: number;
  /** Wall clock (ms) stamped on writes for compaction; injectable for tests. */
  now?: () => number;
  /** Reported when the pool or the listener connection fails (default: ignored). */
  onError?: (error: Error) => void;
}

function page<T>(rows: T[], limit: number): Page<T> {
  return rows.length > limit ? { items: rows.slice(0, limit), hasMore: true } : { items: rows, hasMore: false };
}

/**
 * {@link ServerStorage} on PostgreSQL: many stateless server processes share one database.
 *
 * Gap-free sequences: a push first upserts its scope's counter row, which locks it until the
 * transaction ends, so pushes to one scope run one after another and take and commit their
 * seqs in the same order. A puller therefore never sees seq N+1 without N. Pushes to different
 * scopes do not wait for each other. READ COMMITTED suffices: every read of the push happens
 * after the lock, so it sees the previous push's commit.
 *
 * Commits are announced with NOTIFY inside the push transaction (delivered only if it commits)
 * and heard on one dedicated LISTEN connection per process, so pokes reach every process.
 *
 * @example
 * const storage = await PostgresStorage.open({ connectionString: 'postgres://ferry@127.0.0.1/ferry' });
 * const server = await createServer({ storage, schema, auth });
 */
export class PostgresStorage implements ServerStorage {
  readonly #pool: pg.Pool;
  readonly #feed: PostgresCommitFeed;
  readonly #now: () => number;
  #closing: Promise<void> | undefined;

  private constructor(options: PostgresStorageOptions) {
    const connectionTimeoutMillis = options.connectionTimeoutMs ?? 5000;
    const statementTimeout = options.statementTimeoutMs ?? 10_000;
    this.#now = options.now ?? Date.now;
    this.#pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis,
      idleTimeoutMillis: 30_000,
      statement_timeout: statementTimeout,
      // A client-side cap too, for when the server stops answering altogether.
      query_timeout: statementTimeout + 5000,
      idle_in_transaction_session_timeout: statementTimeout * 2,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      application_name: 'ferry',
    });
    // An idle pooled connection that dies emits here; without a handler it would crash the process.
    this.#pool.on('error', (error) => options.onError?.(error));
    this.#feed = new PostgresCommitFeed({
      createClient: () =>
        new pg.Client({
          connectionString: options.connectionString,
          connectionTimeoutMillis,
          // TCP keepalive probes find a silently dead LISTEN connection, which then reconnects.
          keepAlive: true,
          keepAliveInitialDelayMillis: 10_000,
          application_name: 'ferry-listen',
        }),
      ...(options.onError ? { onError: options.onError } : {}),
    });
  }

  /** Connects, creates or migrates the schema, and returns a ready storage. */
  static async open(options: PostgresStorageOptions): Promise<PostgresStorage> {
    const storage = new PostgresStorage(options);
    try {
      await migratePostgres(storage.#pool);
    } catch (error) {
      await storage.close();
      throw error;
    }
    return storage;
  }

  async applyChanges(
    scope: string,
    changes: readonly Change[],
    decide: ChangeDecider,
    options: ApplyOptions = {},
  ): Promise<ApplyOutcome> {
    return applyChangesPostgres(this.#pool, { scope, changes, decide, now: this.#now(), actor: options.actor });
  }

  async memberships(user: string): Promise<SpaceState[]> {
    const { rows } = await this.#pool.query<{ id: string; name: string; role: Role; seq: string }>(
      `SELECT m.space AS id, s.name, m.role, coalesce(c.seq, 0) AS seq
       FROM ferry_space_members m JOIN ferry_spaces s ON s.id = m.space LEFT JOIN ferry_scopes c ON c.scope = m.space
       WHERE m.user_id = $1 ORDER BY m.space`,
      [user],
    );
    return rows.map((row) => ({ ...row, seq: Number(row.seq) }));
  }

  async roleOf(space: string, user: string): Promise<Role | null> {
    const { rows } = await this.#pool.query<{ role: Role }>(
      'SELECT role FROM ferry_space_members WHERE space = $1 AND user_id = $2',
      [space, user],
    );
    return rows[0]?.role ?? null;
  }

  async members(space: string): Promise<string[]> {
    const { rows } = await this.#pool.query<{ user_id: string }>(
      'SELECT user_id FROM ferry_space_members WHERE space = $1',
      [space],
    );
    return rows.map((row) => row.user_id);
  }

  async currentSeqs(scopes: readonly string[]): Promise<Map<string, number>> {
    const seqs = new Map<string, number>(scopes.map((scope) => [scope, 0]));
    const { rows } = await this.#pool.query<{ scope: string; seq: string }>(
      'SELECT scope, seq FROM ferry_scopes WHERE scope = ANY($1::text[])',
      [[...scopes]],
    );
    for (const row of rows) seqs.set(row.scope, Number(row.seq));
    return seqs;
  }

  async getRecord(scope: string, entityType: string, entityId: string): Promise<ServerRecord | null> {
    const { rows } = await this.#pool.query<RecordRow>(
      `SELECT ${RECORD_COLUMNS} FROM ferry_records WHERE scope = $1 AND entity_type = $2 AND entity_id = $3`,
      [scope, entityType, entityId],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async pull(scope: string, options: PullOptions): Promise<PullPage> {
    const { cursor, limit, types } = options;
    const { rows } = await this.#pool.query<RecordRow>(
      `SELECT ${RECORD_COLUMNS} FROM ferry_records
       WHERE scope = $1 AND seq > $2 AND ($3::text[] IS NULL OR entity_type = ANY($3::text[]))
       ORDER BY seq LIMIT $4`,
      [scope, cursor, types === undefined ? null : [...types], limit + 1],
    );
    // Checked after the read: a compaction that commits in between makes us refuse, never skip.
    if (cursor > 0 && !options.snapshot) await this.#checkHorizon(scope, cursor, 'pull_horizon');
    const result: PullPage = page(rows.map(toRecord), limit);
    // The horizon is read after the rows: a compaction committing in between shows as a rise.
    return options.snapshot ? asSnapshotPage(result, cursor, await this.#horizon(scope, 'pull_horizon')) : result;
  }

  async changesSince(scope: string, options: { since: number; limit: number }): Promise<Page<LoggedChange>> {
    const { rows } = await this.#pool.query<{ seq: string; change: Change }>(
      'SELECT seq, change FROM ferry_change_log WHERE scope = $1 AND seq > $2 ORDER BY seq LIMIT $3',
      [scope, options.since, options.limit + 1],
    );
    await this.#checkHorizon(scope, options.since, 'log_horizon');
    return page(
      rows.map((row) => ({ ...row.change, seq: Number(row.seq) })),
      options.limit,
    );
  }

  async #horizon(scope: string, column: 'pull_horizon' | 'log_horizon'): Promise<number> {
    // `column` is one of two literals, never input.
    const { rows } = await this.#pool.query<{ horizon: string }>(
      `SELECT ${column} AS horizon FROM ferry_scopes WHERE scope = $1`,
      [scope],
    );
    return Number(rows[0]?.horizon ?? 0);
  }

  async #checkHorizon(scope: string, cursor: number, column: 'pull_horizon' | 'log_horizon'): Promise<void> {
    const horizon = await this.#horizon(scope, column);
    if (cursor < horizon) throw new CursorExpiredError(cursor, horizon);
  }

  async listRecords(
    scope: string,
    entityType: string,
    options: { after?: string | undefined; limit: number },
  ): Promise<Page<ServerRecord>> {
    const { rows } = await this.#pool.query<RecordRow>(
      `SELECT ${RECORD_COLUMNS} FROM ferry_records
       WHERE scope = $1 AND entity_type = $2 AND entity_id > $3 AND NOT deleted
       ORDER BY entity_id LIMIT $4`,
      [scope, entityType, options.after ?? '', options.limit + 1],
    );
    return page(rows.map(toRecord), options.limit);
  }

  async currentSeq(scope: string): Promise<number> {
    const { rows } = await this.#pool.query<{ seq: string }>('SELECT seq FROM ferry_scopes WHERE scope = $1', [scope]);
    return Number(rows[0]?.seq ?? 0);
  }

  /** Hears commits of every process on this database, this one included, through LISTEN/NOTIFY. */
  onCommit(listener: (scope: string, seq: number) => void): () => void {
    return this.#feed.subscribe(listener);
  }

  /** Resolves once the LISTEN connection is up; a commit after that is heard. */
  whenListening(): Promise<void> {
    return this.#feed.whenListening();
  }

  /** Drops the LISTEN connection as a network failure would; it reconnects with backoff. */
  dropListenerConnection(): void {
    this.#feed.dropConnection();
  }

  async compact(options: CompactOptions): Promise<CompactResult> {
    return compactPostgres(this.#pool, options);
  }

  async inspect(scopes: readonly string[]): Promise<StorageInspection> {
    return inspectPostgres(this.#pool, scopes);
  }

  async firstWriteAfter(cursors: ReadonlyArray<{ scope: string; cursor: number }>): Promise<Array<number | null>> {
    return firstWriteAfterPostgres(this.#pool, cursors);
  }

  /** A rate-limit counter on this database's pool: limits hold across every server process. */
  createRateCounter(): RateCounter {
    return new PostgresRateCounter(this.#pool);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#feed.close();
      await this.#pool.end();
    })();
    return this.#closing;
  }
}
