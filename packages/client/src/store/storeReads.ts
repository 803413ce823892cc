import type { EntitySchema, RecordData, Schema } from '@ferry/protocol';
import { SyncError } from '../errors.js';
import type { CompiledQuery } from './compileQuery.js';
import type { ReadSet } from './LiveQuery.js';
import type { SqlDriver, SqlRow, SqlValue } from './SqlDriver.js';

/** A record as queries return it: its fields plus its id. */
export type Row = RecordData & { id: string };

/** Runs one read under SQLite's own guard: with `query_only` on, any statement that would write fails. */
export async function readOnly(driver: SqlDriver, text: string, params: readonly SqlValue[]): Promise<SqlRow[]> {
  await driver.execute('PRAGMA query_only = 1');
  try {
    const { rows } = await driver.execute(text, params);
    return rows;
  } catch (cause) {
    throw new SyncError('VALIDATION_ERROR', `SQL read failed: ${(cause as Error).message}`, {
      cause,
      retryable: false,
    });
  } finally {
    await driver.execute('PRAGMA query_only = 0');
  }
}

/** A selected entity row as the app reads it. Parsed and the id set in place: spreading into a new object costs twice the parse. */
export function rowToRecord(row: SqlRow): Row {
  const doc = (row.data === null ? {} : JSON.parse(String(row.data))) as Row;
  doc.id = String(row.entity_id);
  return withSpace(doc, row.space === null || row.space === undefined ? null : String(row.space));
}

/** The key that tells two live queries apart (same statement, same parameters = same query). */
export function queryKey(entityType: string, compiled: CompiledQuery, kind: 'rows' | 'count'): string {
  const statement = kind === 'rows' ? compiled.select : compiled.count;
  return JSON.stringify([kind, entityType, statement.sql, statement.params]);
}

/** Checks SQL read parameters: bound values only, never a boolean or object. */
export function checkParams(params: readonly SqlValue[]): readonly SqlValue[] {
  if (!Array.isArray(params))
    throw new SyncError('VALIDATION_ERROR', 'SQL read parameters must be an array', { retryable: false });
  for (const value of params) {
    if (!(value === null || typeof value === 'string' || typeof value === 'number' || value instanceof Uint8Array)) {
      throw new SyncError(
        'VALIDATION_ERROR',
        `SQL read parameters must be strings, numbers, null or bytes; got ${typeof value} (bind booleans as 1 or 0)`,
        { retryable: false },
      );
    }
  }
  return params;
}

/**
 * Tells a read record its space: `doc.space` is the shared space id, or null for the private
 * space. Not enumerable, so it never reaches a spread, `JSON.stringify` or an `update` patch,
 * and never hides a field of the record's own named `space` (that field wins).
 */
export function withSpace<T extends object>(doc: T, space: string | null): T {
  if (!Object.hasOwn(doc, 'space')) Object.defineProperty(doc, 'space', { value: space, enumerable: false });
  return doc;
}

/**
 * The declared schema of an entity type; undefined without a store schema. With one, an
 * undeclared type is a clear error rather than a query that can never match.
 */
export function declaredEntity(schema: Schema | undefined, entityType: string): EntitySchema | undefined {
  if (schema === undefined) return undefined;
  const entity = schema.entities.get(entityType);
  if (entity === undefined) {
    throw new SyncError(
      'VALIDATION_ERROR',
      `Entity type "${String(entityType).slice(0, 64)}" is not declared in the schema; declared: ${[...schema.entities.keys()].join(', ')}`,
      { retryable: false },
    );
  }
  return entity;
}

/**
 * The entity types a read-only SQL statement depends on: those whose views it names, or every
 * write at all when it reads `ferry_entities` itself.
 */
export function sqlReadSet(schema: Schema | undefined, identifiers: ReadonlySet<string>): ReadSet {
  if (identifiers.has('ferry_entities')) return '*';
  return new Set([...(schema?.entities.keys() ?? [])].filter((type) => identifiers.has(type.toLowerCase())));
}
