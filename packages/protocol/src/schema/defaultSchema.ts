import type { SchemaJson } from './parseSchema.js';

/**
 * The default entity types: the demo's `todos` and free-form `notes`. `ferry serve` uses them
 * without `--schema`, and the demo app declares its schema with `defineSchema` from this same
 * object, so server and device agree by construction. Every field stays nullable, so records
 * written before a field existed stay valid; the indexes serve the demo's list filters.
 */
export const defaultSchemaDefinition = {
  entities: {
    todos: {
      fields: {
        title: 'string',
        completed: { type: 'boolean', indexed: true },
        order: 'number',
        dueAt: { type: 'number', indexed: true },
      },
      indexes: [
        ['completed', 'order'],
        ['completed', 'dueAt'],
      ],
    },
    notes: {},
  },
} as const satisfies SchemaJson;
