import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultSchema } from '../defaultSchema.js';
import { SchemaError } from '../errors.js';
import { loadSchema } from './loadSchema.js';
import { parseSchema } from './parseSchema.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-schema-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseSchema', () => {
  it('builds maps of entity types and fields', () => {
    const schema = parseSchema({ entities: { todos: { fields: { title: 'string' }, strict: true }, notes: {} } });
    expect([...schema.entities.keys()]).toEqual(['todos', 'notes']);
    expect(schema.entities.get('todos')).toEqual({
      fields: new Map([['title', { type: 'string', nullable: true, indexed: false }]]),
      strict: true,
      shared: false,
      indexes: [],
    });
    expect(schema.entities.get('notes')).toEqual({ fields: new Map(), strict: false, shared: false, indexes: [] });
    // Maps, so prototype names are not entity types.
    expect(schema.entities.has('constructor')).toBe(false);
  });

  it('has todos and notes by default', () => {
    expect([...defaultSchema.entities.keys()]).toEqual(['todos', 'notes']);
    const todos = defaultSchema.entities.get('todos');
    expect(Object.fromEntries([...(todos?.fields ?? [])].map(([name, field]) => [name, field.type]))).toEqual({
      title: 'string',
      completed: 'boolean',
      order: 'number',
      dueAt: 'number',
    });
    // Every default field stays nullable: records written before a field existed stay valid.
    expect([...(todos?.fields.values() ?? [])].every((field) => field.nullable)).toBe(true);
  });

  it('reads the long field form: nullable, indexed, compound indexes, shared', () => {
    const schema = parseSchema({
      entities: {
        tasks: {
          fields: {
            title: { type: 'string', nullable: false },
            done: { type: 'boolean', indexed: true },
            dueAt: 'number',
            meta: 'json',
          },
          indexes: [['done', 'dueAt']],
          shared: true,
        },
      },
    });
    const tasks = schema.entities.get('tasks');
    expect(tasks?.fields.get('title')).toEqual({ type: 'string', nullable: false, indexed: false });
    expect(tasks?.fields.get('done')).toEqual({ type: 'boolean', nullable: true, indexed: true });
    expect(tasks?.indexes).toEqual([['done', 'dueAt']]);
    expect(tasks?.shared).toBe(true);
  });

  it.each([
    [[], /JSON object/],
    [{}, /"entities" must be an object/],
    [{ entities: {}, version: 2 }, /unknown key "version"/],
    [{ entities: {} }, /no entity types/],
    [{ entities: { 'bad-name': {} } }, /"bad-name" is not a valid name/],
    [{ entities: { todos: { feilds: {} } } }, /unknown key "feilds"/],
    [{ entities: { todos: { fields: { title: 'text' } } } }, /field "title" has type "text"; use one of string/],
    [{ entities: { todos: { fields: { 'a b': 'string' } } } }, /field "a b" is not a valid name/],
    [{ entities: { todos: { strict: 'yes' } } }, /"strict" must be true or false/],
    [{ entities: { todos: [] } }, /must be an object/],
    [
      { entities: { todos: { fields: { meta: { type: 'json', indexed: true } } } } },
      /"meta" has type "json", which cannot be indexed/,
    ],
    [
      { entities: { todos: { fields: { a: { type: 'string', indexd: true } } } } },
      /field "a" has unknown key "indexd"/,
    ],
    [
      { entities: { todos: { fields: { a: { type: 'string', nullable: 'no' } } } } },
      /field "a": "nullable" must be true or false/,
    ],
    [
      { entities: { todos: { fields: { a: 'string' }, indexes: [['a', 'b']] } } },
      /index 0 names "b", which is not a declared field/,
    ],
    [{ entities: { todos: { fields: { a: 'string' }, indexes: 'a' } } }, /"indexes" must be an array/],
    [{ entities: { todos: { shared: 1 } } }, /"shared" must be true or false/],
    [{ entities: { todos: { fields: { id: 'string' } } } }, /"id" is the record's key/],
    [{ entities: { ferry_kv: {} } }, /starts with "ferry_"/],
    [{ entities: { sqlite_master: {} } }, /starts with "sqlite_"/],
  ])('rejects %j', (json, message) => {
    expect(() => parseSchema(json)).toThrow(SchemaError);
    expect(() => parseSchema(json)).toThrow(message);
  });
});

describe('loadSchema', () => {
  it('loads a file', async () => {
    const file = join(dir, 'ok.json');
    writeFileSync(file, JSON.stringify({ entities: { items: { fields: { n: 'number' } } } }));
    expect([...(await loadSchema(file)).entities.keys()]).toEqual(['items']);
  });

  it('names the file and the problem', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ "entities": ');
    await expect(loadSchema(bad)).rejects.toThrow(new RegExp(`Schema file ${bad} is not valid JSON`));
    const wrong = join(dir, 'wrong.json');
    writeFileSync(wrong, JSON.stringify({ entities: { todos: { fields: { done: 'bool' } } } }));
    await expect(loadSchema(wrong)).rejects.toThrow(/wrong\.json: Entity type "todos": field "done" has type "bool"/);
    await expect(loadSchema(join(dir, 'missing.json'))).rejects.toThrow(/Cannot read schema file .*missing\.json/);
  });
});
