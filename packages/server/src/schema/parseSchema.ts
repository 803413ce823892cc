/**
 * The server reads the one schema module of `@ferry/protocol` (the device reads the same one):
 * this file only turns its errors into the server's {@link SchemaError}, so a bad `--schema`
 * stops startup the way every other configuration error does.
 */
import {
  type EntitySchema,
  FIELD_TYPES,
  type FieldType,
  SchemaError as ProtocolSchemaError,
  parseSchema as parseProtocolSchema,
  type Schema,
  type SchemaJson,
} from '@ferry/protocol';
import { SchemaError } from '../errors.js';

/** The entity types a server accepts (the protocol's {@link Schema}). */
export type ServerSchema = Schema;
export { type EntitySchema, FIELD_TYPES, type FieldType, type SchemaJson };

/**
 * Checks a schema's JSON form and builds the {@link ServerSchema}. Throws a
 * {@link SchemaError} naming the first problem.
 *
 * @example
 * const schema = parseSchema({ entities: { todos: { fields: { title: 'string' } }, notes: {} } });
 */
export function parseSchema(json: unknown): ServerSchema {
  try {
    return parseProtocolSchema(json);
  } catch (error) {
    if (error instanceof ProtocolSchemaError) throw new SchemaError(error.message, { cause: error });
    throw error;
  }
}
