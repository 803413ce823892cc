/**
 * The demo's entity types: the default definition from `@ferry/protocol`, the very object the
 * server's default schema is parsed from. The device's store indexes and validates with it and
 * TypeScript types the todos collection from it. (`examples/todo/schema.json` is the same
 * definition as a file; a test keeps them equal.)
 */
import { defineSchema, type InferRecord } from '@ferry/client';
import { defaultSchemaDefinition } from '@ferry/client/protocol';

export const todoSchema = defineSchema(defaultSchemaDefinition);

/** A todo as stored and synced. */
export type Todo = InferRecord<typeof todoSchema, 'todos'>;
