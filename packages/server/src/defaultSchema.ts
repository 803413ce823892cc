import { parseSchema, type ServerSchema } from './schema/parseSchema.js';

/**
 * The schema `ferry serve` uses without `--schema`: the demo's `todos` and free-form `notes`.
 * `dueAt` (epoch ms) and the indexes serve the demo's list filters; every field stays
 * nullable, so records written before they existed stay valid.
 */
export const defaultSchema: ServerSchema = parseSchema({
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
});
