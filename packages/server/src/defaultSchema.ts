import { parseSchema, type ServerSchema } from './schema/parseSchema.js';

/** The schema `ferry serve` uses without `--schema`: the demo's `todos` and free-form `notes`. */
export const defaultSchema: ServerSchema = parseSchema({
  entities: {
    todos: { fields: { title: 'string', completed: 'boolean', order: 'number' } },
    notes: {},
  },
});
