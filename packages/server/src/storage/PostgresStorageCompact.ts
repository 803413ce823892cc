import type pg from 'pg';
import type { CompactOptions, CompactResult, ScopeInspection, StorageInspection } from './ServerStorage.js';

/**
 * History compaction on PostgreSQL, one short transaction per scope so pushes elsewhere never
 * wait for it. Each transaction locks the scope's counter row FIRST, as a push does: taking row
 * locks in the same order as pushes rules out deadlocks with them.
 */
export async function compactPostgres(pool: pg.Pool, options: CompactOptions): Promise<CompactResult> {
  const result: CompactResult = { tombstones: 0, changes: 0 };
  const { tombstonesBefore, changesBefore } = options;
  if (tombstonesBefore === undefined && changesBefore === undefined) return result;
  const { rows: scopes } = await pool.query<{ scope: string }>(
    `SELECT scope FROM ferry_records WHERE deleted AND written_at < $1
     UNION SELECT scope FROM ferry_change_log WHERE applied_at < $2`,
    [tombstonesBefore ?? Number.MIN_SAFE_INTEGER, changesBefore ?? Number.MIN_SAFE_INTEGER],
  );
  for (const { scope } of scopes) {
    const client = await pool.connect();
    let failed: Error | undefined;
    try {
      await client.query('BEGIN');
      await client.query('SELECT 1 FROM ferry_scopes WHERE scope = $1 FOR UPDATE', [scope]);
      if (tombstonesBefore !== undefined) {
        const purged = await client.query<{ count: string; horizon: string | null }>(
          `WITH purged AS (
             DELETE FROM ferry_records WHERE scope = $1 AND deleted AND written_at < $2 RETURNING seq)
           SELECT count(*) AS count, max(seq) AS horizon FROM purged`,
          [scope, tombstonesBefore],
        );
        result.tombstones += Number(purged.rows[0]?.count ?? 0);
        await client.query(
          'UPDATE ferry_scopes SET pull_horizon = GREATEST(pull_horizon, $2::bigint) WHERE scope = $1 AND $2::bigint IS NOT NULL',
          [scope, purged.rows[0]?.horizon ?? null],
        );
      }
      if (changesBefore !== undefined) {
        const purged = await client.query<{ count: string; horizon: string | null }>(
          `WITH purged AS (
             DELETE FROM ferry_change_log WHERE scope = $1 AND applied_at < $2 RETURNING seq)
           SELECT count(*) AS count, max(seq) AS horizon FROM purged`,
          [scope, changesBefore],
        );
        result.changes += Number(purged.rows[0]?.count ?? 0);
        await client.query(
          'UPDATE ferry_scopes SET log_horizon = GREATEST(log_horizon, $2::bigint) WHERE scope = $1 AND $2::bigint IS NOT NULL',
          [scope, purged.rows[0]?.horizon ?? null],
        );
      }
      await client.query('COMMIT');
    } catch (error) {
      failed = error as Error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release(failed);
    }
  }
  return result;
}

/**
 * {@link ServerStorage.inspect} on PostgreSQL: Ferry's tables (indexes and TOAST included) in
 * the schema the pool uses, and each scope's row. The database may hold other applications'
 * tables; they are not counted.
 */
export async function inspectPostgres(pool: pg.Pool, scopes: readonly string[]): Promise<StorageInspection> {
  const [size, rows] = await Promise.all([
    pool.query<{ bytes: string | null }>(
      `SELECT sum(pg_total_relation_size(c.oid)) AS bytes
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND c.relname LIKE 'ferry\\_%' AND n.nspname = current_schema()`,
    ),
    pool.query<{ scope: string; seq: string; pull_horizon: string; log_horizon: string }>(
      'SELECT scope, seq, pull_horizon, log_horizon FROM ferry_scopes WHERE scope = ANY($1::text[])',
      [[...scopes]],
    ),
  ]);
  const byScope = new Map(rows.rows.map((row) => [row.scope, row]));
  const bytes = size.rows[0]?.bytes;
  return {
    backend: 'postgres',
    sizeBytes: bytes === null || bytes === undefined ? null : Number(bytes),
    scopes: scopes.map((scope): ScopeInspection => {
      const row = byScope.get(scope);
      return {
        scope,
        head: Number(row?.seq ?? 0),
        pullHorizon: Number(row?.pull_horizon ?? 0),
        logHorizon: Number(row?.log_horizon ?? 0),
      };
    }),
  };
}

/** {@link ServerStorage.firstWriteAfter} on PostgreSQL: one query, two index lookups per cursor. */
export async function firstWriteAfterPostgres(
  pool: pg.Pool,
  cursors: ReadonlyArray<{ scope: string; cursor: number }>,
): Promise<Array<number | null>> {
  if (cursors.length === 0) return [];
  // A write time of 0 is a row written before write times were recorded: unknown.
  const { rows } = await pool.query<{ at: string | null }>(
    `SELECT coalesce(
       (SELECT applied_at FROM ferry_change_log l
         WHERE l.scope = p.scope AND l.seq > p.cursor AND l.applied_at > 0 ORDER BY l.seq LIMIT 1),
       (SELECT written_at FROM ferry_records r
         WHERE r.scope = p.scope AND r.seq > p.cursor AND r.written_at > 0 ORDER BY r.seq LIMIT 1)) AS at
     FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS p(scope, cursor, i)
     ORDER BY p.i`,
    [cursors.map((entry) => entry.scope), cursors.map((entry) => entry.cursor)],
  );
  return rows.map((row) => (row.at === null ? null : Number(row.at)));
}
