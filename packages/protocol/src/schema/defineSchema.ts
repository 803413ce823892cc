import type { JsonValue } from '../json.js';
import { type FieldType, parseSchema, type Schema, type SchemaJson } from './parseSchema.js';

/**
 * A {@link Schema} that remembers the definition it came from, so collection types can be
 * inferred from it. The type parameter exists only at compile time.
 */
export interface TypedSchema<D extends SchemaJson = SchemaJson> extends Schema {
  /**
   * Compile-time only: the definition the types come from. Never set at run time; required in
   * the type so a plain {@link Schema} (from a file) is not mistaken for a typed one.
   */
  readonly __definition: D;
}

type ValueOf<T extends FieldType> = T extends 'string'
  ? string
  : T extends 'number'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'object'
        ? { [key: string]: JsonValue }
        : T extends 'array'
          ? JsonValue[]
          : JsonValue;

type TypeOf<F> = F extends FieldType ? F : F extends { readonly type: infer T extends FieldType } ? T : never;
type IsRequired<F> = F extends { readonly nullable: false } ? true : false;
type FieldsOf<E> = E extends { readonly fields: infer F } ? F : Record<never, never>;

/** The record type of one field map: non-nullable fields required, the rest optional and nullable. */
export type RecordOf<Fields> = {
  -readonly [K in keyof Fields as IsRequired<Fields[K]> extends true ? K : never]: ValueOf<TypeOf<Fields[K]>>;
} & {
  -readonly [K in keyof Fields as IsRequired<Fields[K]> extends true ? never : K]?: ValueOf<TypeOf<Fields[K]>> | null;
};

/** The entity type names of a typed schema. */
export type EntityName<S> = S extends TypedSchema<infer D> ? Extract<keyof D['entities'], string> : string;

/**
 * The record type of entity type `K` in schema `S`, e.g.
 * `type Todo = InferRecord<typeof schema, 'todos'>`.
 */
export type InferRecord<S, K extends string> =
  S extends TypedSchema<infer D>
    ? K extends keyof D['entities']
      ? RecordOf<FieldsOf<D['entities'][K]>>
      : never
    : Record<string, JsonValue>;

/**
 * Declares the entity types once, for the server (validation), the device (indexes, views,
 * validation) and TypeScript (collection types). Checks the definition like a schema file
 * and throws a {@link SchemaError} naming the first problem. `JSON.stringify(definition)` is a
 * valid schema file, so the server can load the very same definition.
 *
 * @example
 * export const schema = defineSchema({
 *   entities: {
 *     todos: {
 *       fields: {
 *         title: { type: 'string', nullable: false },
 *         completed: { type: 'boolean', indexed: true },
 *         dueAt: { type: 'number', indexed: true },
 *       },
 *       indexes: [['completed', 'dueAt']],
 *     },
 *   },
 * });
 * type Todo = InferRecord<typeof schema, 'todos'>; // { title: string; completed?: boolean | null; dueAt?: number | null }
 */
export function defineSchema<const D extends SchemaJson>(definition: D): TypedSchema<D> {
  return parseSchema(definition) as unknown as TypedSchema<D>;
}
