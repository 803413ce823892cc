import { isFieldName } from '../json.js';
import { ENTITY_TYPE_PATTERN } from '../schemas.js';

/**
 * Types a declared field may have. `json` (and its older spelling `any`) accepts every JSON
 * value; `object` and `array` are JSON values of that shape. Only `string`, `number` and
 * `boolean` fields can be indexed, compared and sorted.
 */
export const FIELD_TYPES = ['string', 'number', 'boolean', 'json', 'object', 'array', 'any'] as const;
/** One of {@link FIELD_TYPES}. */
export type FieldType = (typeof FIELD_TYPES)[number];
/** Field types a query can compare, sort and index. */
export type ScalarFieldType = 'string' | 'number' | 'boolean';

/** One declared field. */
export interface FieldSchema {
  readonly type: FieldType;
  /**
   * Whether `null` is a valid value. Default true (and always true in the short form
   * `"title": "string"`), so an absent field and a cleared one mean the same. A non-nullable
   * field must be present in a CREATE and may never be set to null.
   */
  readonly nullable: boolean;
  /** Whether the device keeps an index on this field (queries filter and sort on it without a scan). */
  readonly indexed: boolean;
}

/** What both ends know about one entity type. */
export interface EntitySchema {
  /** Declared fields; a field that is not declared is allowed unless `strict`. */
  readonly fields: ReadonlyMap<string, FieldSchema>;
  /** Reject fields that are not declared. */
  readonly strict: boolean;
  /** Records of this type live in shared spaces (reserved for spaces; no effect yet). */
  readonly shared: boolean;
  /** Compound indexes, each a list of declared scalar fields in key order. */
  readonly indexes: readonly (readonly string[])[];
}

/**
 * The declared entity types. Maps, not objects: an entity type named `constructor` must not
 * find `Object.prototype.constructor`.
 */
export interface Schema {
  readonly entities: ReadonlyMap<string, EntitySchema>;
}

/** A field as written in a schema file or a {@link defineSchema} call. */
export type FieldDefinition =
  | FieldType
  | { readonly type: FieldType; readonly nullable?: boolean; readonly indexed?: boolean };

/** An entity type as written in a schema file or a {@link defineSchema} call. */
export interface EntityDefinition {
  readonly fields?: { readonly [field: string]: FieldDefinition };
  readonly strict?: boolean;
  readonly shared?: boolean;
  readonly indexes?: readonly (readonly string[])[];
}

/** The JSON form of a schema, as written in a schema file. */
export interface SchemaJson {
  readonly entities: { readonly [entityType: string]: EntityDefinition };
}

/** A schema that does not hold together; the message names the entity type and field. */
export class SchemaError extends Error {
  override readonly name = 'SchemaError';
}

/** Prefixes Ferry's store and SQLite keep for their own tables: an entity type becomes a view name. */
const RESERVED_PREFIX = /^(ferry_|sqlite_)/i;
const ENTITY_KEYS = new Set(['fields', 'strict', 'shared', 'indexes']);
const FIELD_KEYS = new Set(['type', 'nullable', 'indexed']);
const SCALAR_TYPES: ReadonlySet<FieldType> = new Set(['string', 'number', 'boolean']);
/** SQLite allows 2000 columns in an index; a device needs far fewer. */
const MAX_INDEX_FIELDS = 8;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True for the types a query can compare, sort and index. */
export function isScalarType(type: FieldType): type is ScalarFieldType {
  return SCALAR_TYPES.has(type);
}

function parseField(type: string, field: string, raw: unknown): FieldSchema {
  const where = `Entity type "${type}": field "${field}"`;
  if (!isFieldName(field)) throw new SchemaError(`${where} is not a valid name (1-64 letters, digits, "_" or "$")`);
  const definition = typeof raw === 'string' ? { type: raw } : raw;
  if (!isPlainObject(definition)) {
    throw new SchemaError(`${where} must be a type name or an object like { "type": "string", "indexed": true }`);
  }
  const unknownKey = Object.keys(definition).find((key) => !FIELD_KEYS.has(key));
  if (unknownKey !== undefined) {
    throw new SchemaError(`${where} has unknown key "${unknownKey}"; allowed: "type", "nullable", "indexed"`);
  }
  if (!(FIELD_TYPES as readonly unknown[]).includes(definition.type)) {
    throw new SchemaError(`${where} has type ${JSON.stringify(definition.type)}; use one of ${FIELD_TYPES.join(', ')}`);
  }
  for (const flag of ['nullable', 'indexed'] as const) {
    if (definition[flag] !== undefined && typeof definition[flag] !== 'boolean') {
      throw new SchemaError(`${where}: "${flag}" must be true or false`);
    }
  }
  const fieldType = definition.type as FieldType;
  if (definition.indexed === true && !isScalarType(fieldType)) {
    throw new SchemaError(
      `${where} has type "${fieldType}", which cannot be indexed; index string, number or boolean fields`,
    );
  }
  return { type: fieldType, nullable: definition.nullable !== false, indexed: definition.indexed === true };
}

function parseIndexes(type: string, raw: unknown, fields: ReadonlyMap<string, FieldSchema>): string[][] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new SchemaError(`Entity type "${type}": "indexes" must be an array of field lists`);
  return raw.map((index, position) => {
    const where = `Entity type "${type}": index ${position}`;
    if (!Array.isArray(index) || index.length === 0 || index.length > MAX_INDEX_FIELDS) {
      throw new SchemaError(
        `${where} must be a list of 1-${MAX_INDEX_FIELDS} field names, like ["completed", "dueAt"]`,
      );
    }
    for (const field of index) {
      const declared = typeof field === 'string' ? fields.get(field) : undefined;
      if (declared === undefined) {
        throw new SchemaError(`${where} names ${JSON.stringify(field)}, which is not a declared field`);
      }
      if (!isScalarType(declared.type)) {
        throw new SchemaError(
          `${where} names "${field}" of type "${declared.type}"; index string, number or boolean fields`,
        );
      }
    }
    if (new Set(index).size !== index.length) throw new SchemaError(`${where} names a field twice`);
    return [...(index as string[])];
  });
}

/**
 * Checks a schema's JSON form and builds the {@link Schema}. Throws a {@link SchemaError}
 * naming the first problem. Every schema file written for earlier versions (field types as
 * plain strings, `strict`) still parses to the same meaning.
 *
 * @example
 * const schema = parseSchema({
 *   entities: {
 *     todos: { fields: { title: 'string', completed: { type: 'boolean', indexed: true } } },
 *     notes: {},
 *   },
 * });
 */
export function parseSchema(json: unknown): Schema {
  if (!isPlainObject(json)) throw new SchemaError('Schema must be a JSON object with an "entities" object');
  const unknownTop = Object.keys(json).filter((key) => key !== 'entities');
  if (unknownTop.length > 0) {
    throw new SchemaError(`Schema has unknown key "${unknownTop[0]}"; only "entities" is allowed`);
  }
  if (!isPlainObject(json.entities)) throw new SchemaError('Schema "entities" must be an object of entity types');
  const entities = new Map<string, EntitySchema>();
  for (const [type, definition] of Object.entries(json.entities)) {
    if (!ENTITY_TYPE_PATTERN.test(type)) {
      throw new SchemaError(
        `Entity type "${type}" is not a valid name: use 1-64 letters, digits or "_", starting with a letter`,
      );
    }
    const reserved = RESERVED_PREFIX.exec(type);
    if (reserved) {
      throw new SchemaError(
        `Entity type "${type}" starts with "${reserved[1]}", a prefix kept for Ferry's and SQLite's own tables; rename it`,
      );
    }
    if (!isPlainObject(definition))
      throw new SchemaError(`Entity type "${type}" must be an object like { "fields": {} }`);
    const unknownKey = Object.keys(definition).find((key) => !ENTITY_KEYS.has(key));
    if (unknownKey !== undefined) {
      throw new SchemaError(
        `Entity type "${type}" has unknown key "${unknownKey}"; allowed: "fields", "strict", "shared", "indexes"`,
      );
    }
    for (const flag of ['strict', 'shared'] as const) {
      if (definition[flag] !== undefined && typeof definition[flag] !== 'boolean') {
        throw new SchemaError(`Entity type "${type}": "${flag}" must be true or false`);
      }
    }
    const rawFields = definition.fields ?? {};
    if (!isPlainObject(rawFields)) throw new SchemaError(`Entity type "${type}": "fields" must be an object`);
    const fields = new Map<string, FieldSchema>();
    for (const [field, raw] of Object.entries(rawFields)) {
      if (field === 'id') {
        throw new SchemaError(`Entity type "${type}": "id" is the record's key, not a field; remove it from "fields"`);
      }
      fields.set(field, parseField(type, field, raw));
    }
    entities.set(type, {
      fields,
      strict: definition.strict === true,
      shared: definition.shared === true,
      indexes: parseIndexes(type, definition.indexes, fields),
    });
  }
  if (entities.size === 0) throw new SchemaError('Schema declares no entity types; add at least one under "entities"');
  return { entities };
}
