import { defaultSchemaDefinition } from '@ferry/protocol';
import { parseSchema, type ServerSchema } from './schema/parseSchema.js';

/**
 * The schema `ferry serve` uses without `--schema`: the demo's `todos` (with `dueAt` and the
 * indexes its list filters use) and free-form `notes`, defined once in `@ferry/protocol`.
 */
export const defaultSchema: ServerSchema = parseSchema(defaultSchemaDefinition);
