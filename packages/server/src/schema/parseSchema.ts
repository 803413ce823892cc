import { ENTITY_TYPE_PATTERN, isFieldName } from '@ferry/protocol';
import { SchemaError } from '../errors.js';

/** Types a declared field may have; `any` accepts every JSON value. */
export const FIELD_TYPES = ['string', 'number', 'boolean', 'object', 'array', 'any'] as const;
/** One of {@link FIELD_TYPES}. */
export type FieldType = (typeof FIELD_TYPES)[number];

/** What the server knows about one entity type. */
export interface EntitySchema {
  /** Declared fields; a field that is not declared is allowed unless `strict`. */
  readonly fields: ReadonlyMap<string, FieldType>;
  /** Reject fields that are not declared. */
  readonly strict: boolean;
}

/**
 * The entity types a server accepts. Maps, not objects: an entity type named `constructor`
 * must not find `Object.prototype.constructor`.
 */
export interface ServerSchema {
  readonly entities: ReadonlyMap<string, EntitySchema>;
}

/** The JSON form of a schema, as written in a schema file. */
export interface SchemaJson {
  entities: Record<string, { fields?: Record<string, FieldType | string>; strict?: boolean }>;
}

const ENTITY_KEYS = new Set(['fields', 'strict']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a schema's JSON form and builds the {@link ServerSchema}. Throws a
 * {@link SchemaError} naming the first problem.
 *
 * @example
 * const schema = parseSchema({ entities: { todos: { fields: { title: 'string' } }, notes: {} } });
 */
export function parseSchema(json: unknown): ServerSchema {
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
    if (!isPlainObject(definition))
      throw new SchemaError(`Entity type "${type}" must be an object like { "fields": {} }`);
    const unknownKey = Object.keys(definition).find((key) => !ENTITY_KEYS.has(key));
    if (unknownKey !== undefined) {
      throw new SchemaError(`Entity type "${type}" has unknown key "${unknownKey}"; allowed: "fields", "strict"`);
    }
    if (definition.strict !== undefined && typeof definition.strict !== 'boolean') {
      throw new SchemaError(`Entity type "${type}": "strict" must be true or false`);
    }
    const rawFields = definition.fields ?? {};
    if (!isPlainObject(rawFields)) throw new SchemaError(`Entity type "${type}": "fields" must be an object`);
    const fields = new Map<string, FieldType>();
    for (const [field, fieldType] of Object.entries(rawFields)) {
      if (!isFieldName(field)) {
        throw new SchemaError(
          `Entity type "${type}": field "${field}" is not a valid name (1-64 letters, digits, "_" or "$")`,
        );
      }
      if (!(FIELD_TYPES as readonly unknown[]).includes(fieldType)) {
        throw new SchemaError(
          `Entity type "${type}": field "${field}" has type ${JSON.stringify(fieldType)}; use one of ${FIELD_TYPES.join(', ')}`,
        );
      }
      fields.set(field, fieldType as FieldType);
    }
    entities.set(type, { fields, strict: definition.strict === true });
  }
  if (entities.size === 0) throw new SchemaError('Schema declares no entity types; add at least one under "entities"');
  return { entities };
}
