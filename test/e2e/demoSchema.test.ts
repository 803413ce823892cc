/**
 * The demo's schema is declared once in TypeScript (examples/todo/src/schema.ts); the server's
 * default schema and the schema file the README serves are the same definition.
 */
import { readFileSync } from 'node:fs';
import { parseSchema } from '@ferry/protocol';
import { defaultSchema } from '@ferry/server';
import { describe, expect, it } from 'vitest';
import { todoSchema } from '../../examples/todo/src/schema.js';

describe("the demo's schema", () => {
  it('is the server default and the schema file, field for field and index for index', () => {
    const file = parseSchema(
      JSON.parse(readFileSync(new URL('../../examples/todo/schema.json', import.meta.url), 'utf8')),
    );
    expect(defaultSchema).toEqual(todoSchema);
    expect(file).toEqual(todoSchema);
  });
});
