import { statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import {
  type CompactOptions,
  type CompactResult,
  CursorExpiredError,
  type ScopeInspection,
  type StorageInspection,
} from './ServerStorage.js';

type HorizonStatement = Database.Statement<[string], { pull_horizon: number; log_horizon: number }>;
// Every pull checks the horizon: prepare that statement once per database handle.
const horizonStatements = new WeakMap<Database.Database, HorizonStatement>();

function horizonStatement(db: Database.Database): HorizonStatement {
  let statement = horizonStatements.get(db);
  if (statement === undefined) {
    statement = db.prepare('SELECT pull_horizon, log_horizon FROM scopes WHERE scope = ?');
    horizonStatements.set(db, statement);
  }
  return statement;
}

/**
 * Throws {@link CursorExpiredError} when `cursor` is older than the scope's horizon: the pull
 * horizon (tombstones removed) or the log horizon (applied changes removed).
 */
export function checkHorizon(db: Database.Database, scope: string, cursor: number, kind: 'pull' | 'log'): void {
  const row = horizonStatement(db).get(scope);
  const horizon = (kind === 'pull' ? row?.pull_horizon : row?.log_horizon) ?? 0;
  if (cursor < horizon) throw new CursorExpiredError(cursor, horizon);
}

/** The scope's pull horizon: pulls from below it are refused (tombstones removed). */
export function pullHorizon(db: Database.Database, scope: string): number {
  return horizonStatement(db).get(scope)?.pull_horizon ?? 0;
}

/**
 * History compaction on SQLite: one IMMEDIATE transaction (the single writer), so no push sees
 * a half-compacted scope. Horizons only move up.
 */
export function compactSqlite(db: Database.Database, options: CompactOptions): CompactResult {
  const { tombstonesBefore, changesBefore } = options;
  return db
    .transaction((): CompactResult => {
      const result: CompactResult = { tombstones: 0, changes: 0 };
      if (tombstonesBefore !== undefined) {
        const horizons = db
          .prepare<[number], { scope: string; horizon: number; count: number }>(
            `SELECT scope, max(seq) AS horizon, count(*) AS count FROM records
             WHERE deleted = 1 AND written_at < ? GROUP BY scope`,
          )
          .all(tombstonesBefore);
        db.prepare('DELETE FROM records WHERE deleted = 1 AND written_at < ?').run(tombstonesBefore);
        const raise = db.prepare('UPDATE scopes SET pull_horizon = max(pull_horizon, ?) WHERE scope = ?');
        for (const { scope, horizon, count } of horizons) {
          raise.run(horizon, scope);
          result.tombstones += count;
        }
      }
      if (changesBefore !== undefined) {
        const horizons = db
          .prepare<[number], { scope: string; horizon: number; count: number }>(
            `SELECT scope, max(seq) AS horizon, count(*) AS count FROM change_log
             WHERE applied_at < ? GROUP BY scope`,
          )
          .all(changesBefore);
        db.prepare('DELETE FROM change_log WHERE applied_at < ?').run(changesBefore);
        const raise = db.prepare('UPDATE scopes SET log_horizon = max(log_horizon, ?) WHERE scope = ?');
        for (const { scope, horizon, count } of horizons) {
          raise.run(horizon, scope);
          result.changes += count;
        }
      }
      return result;
    })
    .immediate();
}

/** {@link ServerStorage.inspect} on SQLite: the pages in use, the WAL file, and each scope's row. */
export function inspectSqlite(db: Database.Database, path: string, scopes: readonly string[]): StorageInspection {
  const pages = db.pragma('page_count', { simple: true }) as number;
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  let walBytes = 0;
  if (path !== ':memory:' && path !== '') {
    try {
      walBytes = statSync(`${path}-wal`).size;
    } catch {
      // No WAL file between checkpoints.
    }
  }
  const rows = new Map(
    db
      .prepare<[string], { scope: string; seq: number; pull_horizon: number; log_horizon: number }>(
        'SELECT scope, seq, pull_horizon, log_horizon FROM scopes WHERE scope IN (SELECT value FROM json_each(?))',
      )
      .all(JSON.stringify(scopes))
      .map((row) => [row.scope, row]),
  );
  return {
    backend: 'sqlite',
    sizeBytes: pages * pageSize + walBytes,
    scopes: scopes.map((scope): ScopeInspection => {
      const row = rows.get(scope);
      return { scope, head: row?.seq ?? 0, pullHorizon: row?.pull_horizon ?? 0, logHorizon: row?.log_horizon ?? 0 };
    }),
  };
}

/** {@link ServerStorage.firstWriteAfter} on SQLite: two index lookups per cursor. */
export function firstWriteAfterSqlite(
  db: Database.Database,
  cursors: ReadonlyArray<{ scope: string; cursor: number }>,
): Array<number | null> {
  // A write time of 0 is a row written before write times were recorded: unknown.
  const logged = db.prepare<[string, number], { at: number }>(
    'SELECT applied_at AS at FROM change_log WHERE scope = ? AND seq > ? AND applied_at > 0 ORDER BY seq LIMIT 1',
  );
  const kept = db.prepare<[string, number], { at: number }>(
    'SELECT written_at AS at FROM records WHERE scope = ? AND seq > ? AND written_at > 0 ORDER BY seq LIMIT 1',
  );
  return cursors.map(({ scope, cursor }) => logged.get(scope, cursor)?.at ?? kept.get(scope, cursor)?.at ?? null);
}
