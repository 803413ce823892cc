/**
 * Turns {@link FindOptions} into one SQL statement over `ferry_entities`, checked against the
 * declared schema first: an unknown field, an operator the field's type cannot take, a value
 * of the wrong type or a sort on an undeclared field is a `VALIDATION_ERROR` naming the field,
 * never a query that quietly matches nothing.
 *
 * Fields are read with the exact expression the schema's indexes are built on
 * ({@link fieldExpression}) and rows are scoped with the indexes' own `WHERE`
 * ({@link typeScope}), so SQLite picks a declared index. Values are always bound.
 */
import { type EntitySchema, isFieldName, isSpaceId, type ScalarFieldType } from '@ferry/protocol';
import { fieldExpression, typeScope } from './entitySchemaDdl.js';
import { bind, describe, type FieldRef, ID_REF, invalid, refsOf } from './queryFields.js';
import type { SqlValue } from './SqlDriver.js';
import type { FieldCondition, FindOptions, QueryValue, SortKey } from './types.js';

/** A statement and its parameters. */
export interface CompiledSql {
  sql: string;
  params: SqlValue[];
}

/** A compiled query: the page of rows, and the count of every match. */
export interface CompiledQuery {
  select: CompiledSql;
  count: CompiledSql;
}

/** What the compiler knows of the queried type: its declared schema, or nothing (free-form). */
export interface QueryTarget {
  entityType: string;
  /** Undefined when the store has no schema for the type: any field, typed by its value. */
  entity: EntitySchema | undefined;
}

const OPERATORS = new Set([
  'eq',
  'ne',
  'gt',
  'gte',
  'lt',
  'lte',
  'in',
  'notIn',
  'like',
  'startsWith',
  'contains',
  'isNull',
]);
/** Bounds a single `in` list; a larger set belongs in a join over an SQL read. */
const MAX_IN_VALUES = 1000;
/** The highest code point: every string starting with a prefix sorts below prefix + this. */
const MAX_CHAR = '\u{10FFFF}';

class Compiler {
  readonly #target: QueryTarget;
  readonly params: SqlValue[] = [];

  constructor(target: QueryTarget) {
    this.#target = target;
  }

  field(name: string, purpose: 'filter' | 'sort'): FieldRef {
    const { entityType, entity } = this.#target;
    if (name === 'id') return ID_REF;
    // A type that declares no fields is free-form: any field, typed by the values compared.
    if (entity === undefined || entity.fields.size === 0) {
      if (typeof name !== 'string' || !isFieldName(name)) {
        throw invalid(`Invalid field name ${describe(name)} in a query on ${entityType}`);
      }
      return { name, sql: fieldExpression(name), type: undefined, opaque: false };
    }
    const declared = refsOf(entity).get(name);
    if (declared === undefined) {
      if (typeof name !== 'string' || !isFieldName(name)) {
        throw invalid(`Invalid field name ${describe(name)} in a query on ${entityType}`);
      }
      throw invalid(
        `${entityType}.${name} is not a declared field, so it cannot be ${purpose === 'filter' ? 'filtered' : 'sorted'} on; declared: ${[...entity.fields.keys()].join(', ')}`,
      );
    }
    if (purpose === 'sort' && declared.opaque) {
      throw invalid(
        `${entityType}.${name} is a ${entity.fields.get(name)?.type} field; sort on a string, number or boolean field`,
      );
    }
    return declared;
  }

  /** Checks a value against the field's type and binds it. */
  value(field: FieldRef, operator: string, value: unknown, allowed: readonly ScalarFieldType[]): string {
    const where = `${this.#target.entityType}.${field.name} (${operator})`;
    if (field.opaque) throw invalid(`${where}: the field is not comparable; only null checks apply to it`);
    const type = typeof value;
    if (type !== 'string' && type !== 'number' && type !== 'boolean') {
      throw invalid(`${where} needs a ${allowed.join(' or ')} value, got ${describe(value)}`);
    }
    if (type === 'number' && !Number.isFinite(value)) throw invalid(`${where} needs a finite number`);
    const expected = field.type ?? (type as ScalarFieldType);
    if (type !== expected) {
      throw invalid(`${where} compares a ${expected} field with ${describe(value)}; pass a ${expected}`);
    }
    if (!allowed.includes(expected)) {
      throw invalid(`${where} does not apply to a ${expected} field; it takes ${allowed.join(' or ')} fields`);
    }
    this.params.push(bind(value as QueryValue));
    return '?';
  }

  list(field: FieldRef, operator: string, values: unknown): string {
    if (!Array.isArray(values)) throw invalid(`${this.#target.entityType}.${field.name} (${operator}) needs an array`);
    if (values.length > MAX_IN_VALUES) {
      throw invalid(`${this.#target.entityType}.${field.name} (${operator}) takes at most ${MAX_IN_VALUES} values`);
    }
    const marks = values.map((value) => this.value(field, operator, value, ['string', 'number', 'boolean']));
    return `(${marks.join(', ')})`;
  }

  condition(field: FieldRef, operator: string, operand: unknown): string {
    const any = ['string', 'number', 'boolean'] as const;
    const ordered = ['string', 'number'] as const;
    const text = ['string'] as const;
    const x = field.sql;
    switch (operator) {
      case 'eq':
        return operand === null ? `${x} IS NULL` : `${x} = ${this.value(field, operator, operand, any)}`;
      case 'ne':
        return operand === null ? `${x} IS NOT NULL` : `${x} IS NOT ${this.value(field, operator, operand, any)}`;
      case 'gt':
        return `${x} > ${this.value(field, operator, operand, ordered)}`;
      case 'gte':
        return `${x} >= ${this.value(field, operator, operand, ordered)}`;
      case 'lt':
        return `${x} < ${this.value(field, operator, operand, ordered)}`;
      case 'lte':
        return `${x} <= ${this.value(field, operator, operand, ordered)}`;
      case 'in':
        return `${x} IN ${this.list(field, operator, operand)}`;
      case 'notIn':
        return `(${x} IS NULL OR ${x} NOT IN ${this.list(field, operator, operand)})`;
      case 'like':
        return `${x} LIKE ${this.value(field, operator, operand, text)} ESCAPE '\\'`;
      case 'startsWith': {
        // A range the index can seek, then the exact (case-sensitive) prefix check.
        const low = this.value(field, operator, operand, text);
        this.params.push(`${operand as string}${MAX_CHAR}`, (operand as string).length, operand as string);
        return `(${x} >= ${low} AND ${x} < ? AND substr(${x}, 1, ?) = ?)`;
      }
      case 'contains':
        return `instr(${x}, ${this.value(field, operator, operand, text)}) > 0`;
      case 'isNull':
        if (typeof operand !== 'boolean') {
          throw invalid(`${this.#target.entityType}.${field.name} (isNull) needs true or false`);
        }
        return operand ? `${x} IS NULL` : `${x} IS NOT NULL`;
      default:
        throw invalid(
          `Unknown operator "${operator.slice(0, 32)}" on ${this.#target.entityType}.${field.name}; use one of ${[...OPERATORS].join(', ')}`,
        );
    }
  }

  where(where: unknown, depth = 0): string {
    if (typeof where !== 'object' || where === null || Array.isArray(where)) {
      throw invalid(`A query filter on ${this.#target.entityType} must be an object like { completed: false }`);
    }
    if (depth > 16) throw invalid(`A query filter on ${this.#target.entityType} nests and/or deeper than 16 levels`);
    const terms: string[] = [];
    for (const [key, operand] of Object.entries(where)) {
      if (operand === undefined) continue;
      if (key === 'and' || key === 'or') {
        if (!Array.isArray(operand))
          throw invalid(`"${key}" in a query on ${this.#target.entityType} needs an array of filters`);
        const parts = operand.map((part: unknown) => this.where(part, depth + 1));
        if (parts.length === 0) terms.push(key === 'and' ? '1' : '0');
        else terms.push(`(${parts.join(key === 'and' ? ' AND ' : ' OR ')})`);
        continue;
      }
      const field = this.field(key, 'filter');
      if (operand !== null && typeof operand === 'object' && !Array.isArray(operand)) {
        const entries = Object.entries(operand as FieldCondition).filter(([, value]) => value !== undefined);
        if (entries.length === 0) throw invalid(`${this.#target.entityType}.${key} has an empty condition`);
        for (const [operator, value] of entries) terms.push(this.condition(field, operator, value));
      } else {
        terms.push(this.condition(field, 'eq', operand));
      }
    }
    return terms.length === 0 ? '1' : terms.join(' AND ');
  }

  orderBy(options: FindOptions<never>): string {
    const raw = options.orderBy;
    if (raw === undefined) return 'entity_id';
    const keys = (Array.isArray(raw) ? raw : [raw]) as SortKey[];
    if (options.order !== undefined && options.order !== 'asc' && options.order !== 'desc') {
      throw invalid(`order must be "asc" or "desc"`);
    }
    let last: 'ASC' | 'DESC' = 'ASC';
    const parts = keys.map((key) => {
      const spec =
        typeof key === 'string' ? { field: key, direction: Array.isArray(raw) ? 'asc' : options.order } : key;
      if (spec === null || typeof spec !== 'object')
        throw invalid(`A sort key must be a field name or { field, direction }`);
      if (spec.direction !== undefined && spec.direction !== 'asc' && spec.direction !== 'desc') {
        throw invalid(`Sort direction of ${String(spec.field)} must be "asc" or "desc"`);
      }
      last = spec.direction === 'desc' ? 'DESC' : 'ASC';
      const nulls = 'nulls' in spec ? spec.nulls : undefined;
      if (nulls !== undefined && nulls !== 'first' && nulls !== 'last') {
        throw invalid(`Sort nulls of ${String(spec.field)} must be "first" or "last"`);
      }
      return `${this.field(spec.field, 'sort').sql} ${last}${nulls === undefined ? '' : ` NULLS ${nulls.toUpperCase()}`}`;
    });
    // The id breaks ties in the last key's direction, matching the indexes' trailing entity_id.
    if (!keys.some((key) => (typeof key === 'string' ? key : key.field) === 'id')) parts.push(`entity_id ${last}`);
    return parts.join(', ');
  }
}

function nonNegativeInt(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw invalid(`${name} must be a non-negative integer`);
  }
  return value;
}

/**
 * Compiles a query on one entity type. The type is written into the SQL as a literal only when
 * the schema declares it (that literal is what lets SQLite use the partial indexes); otherwise
 * it is bound.
 */
export function compileQuery(target: QueryTarget, options: FindOptions<never> = {}): CompiledQuery {
  const compiler = new Compiler(target);
  const scopeParams: SqlValue[] = target.entity ? [] : [target.entityType];
  const scope = target.entity ? typeScope(target.entityType) : 'entity_type = ? AND deleted = 0';
  const filter = options.where === undefined ? '1' : compiler.where(options.where);
  const whereParams = [...scopeParams, ...compiler.params];
  let where = filter === '1' ? scope : `${scope} AND ${filter}`;
  if (options.space !== undefined) {
    if (options.space !== null && (typeof options.space !== 'string' || !isSpaceId(options.space))) {
      throw invalid('space must be a shared space id (sp_…), or null for the private space');
    }
    // `IS` so that null selects the private space's records.
    where += ' AND space IS ?';
    whereParams.push(options.space);
  }
  const order = compiler.orderBy(options);
  let tail = '';
  const tailParams: SqlValue[] = [];
  if (options.limit !== undefined || options.offset !== undefined) {
    // The limit is written into the statement (a checked integer, and apps use few page sizes):
    // with `LIMIT ?` SQLite runs a 50-row indexed page measurably slower. The offset, which
    // changes with every page, stays bound so paging reuses one prepared statement.
    const limit = options.limit === undefined ? -1 : nonNegativeInt(options.limit, 'limit');
    tail = ` LIMIT ${limit} OFFSET ?`;
    tailParams.push(nonNegativeInt(options.offset ?? 0, 'offset'));
  }
  return {
    select: {
      sql: `SELECT entity_id, data, space FROM ferry_entities WHERE ${where} ORDER BY ${order}${tail}`,
      params: [...whereParams, ...tailParams],
    },
    count: { sql: `SELECT COUNT(*) AS n FROM ferry_entities WHERE ${where}`, params: whereParams },
  };
}
