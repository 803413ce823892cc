import { type EntitySchema, isScalarType, type ScalarFieldType } from '@ferry/protocol';
import { SyncError } from '../errors.js';
import { fieldExpression } from './entitySchemaDdl.js';
import type { SqlValue } from './SqlDriver.js';
import type { QueryValue } from './types.js';

// The pieces compileQuery builds a statement from: field references and value handling.

/** A query the schema refuses: never retried, the message names the field. */
export function invalid(message: string): SyncError {
  return new SyncError('VALIDATION_ERROR', message, { retryable: false });
}

/** A value as an error message shows it: short, typed. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string'
    ? `"${value.slice(0, 40)}"`
    : typeof value === 'object'
      ? 'an object'
      : String(value);
}

/** A query value as SQLite binds it (booleans as 1 / 0, the way they are stored). */
export function bind(value: QueryValue): SqlValue {
  return typeof value === 'boolean' ? (value ? 1 : 0) : value;
}

/** One field as the query sees it: its SQL expression and, when known, its declared type. */
export interface FieldRef {
  name: string;
  sql: string;
  /** The declared scalar type; undefined for a free-form field (typed by each value). */
  type: ScalarFieldType | undefined;
  /** Declared but not comparable (json, object, array): only null checks apply. */
  opaque: boolean;
}

/** The record id, queryable like a declared string field. */
export const ID_REF: FieldRef = { name: 'id', sql: 'entity_id', type: 'string', opaque: false };
/** Each declared entity's fields as query references, built once per schema object. */
const declaredRefs = new WeakMap<EntitySchema, Map<string, FieldRef>>();

/** The declared fields of an entity as query references (cached per schema object). */
export function refsOf(entity: EntitySchema): Map<string, FieldRef> {
  let refs = declaredRefs.get(entity);
  if (refs === undefined) {
    refs = new Map();
    for (const [name, declared] of entity.fields) {
      const scalar = isScalarType(declared.type);
      refs.set(name, {
        name,
        sql: fieldExpression(name),
        type: scalar ? (declared.type as ScalarFieldType) : undefined,
        opaque: !scalar,
      });
    }
    declaredRefs.set(entity, refs);
  }
  return refs;
}
