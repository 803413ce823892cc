import { describe, expect, expectTypeOf, it } from 'vitest';
import { defineSchema, type InferRecord } from './defineSchema.js';
import { SchemaError } from './parseSchema.js';
import { validateRecord } from './validateRecord.js';

const schema = defineSchema({
  entities: {
    todos: {
      fields: {
        title: { type: 'string', nullable: false },
        completed: { type: 'boolean', indexed: true },
        dueAt: 'number',
        tags: 'array',
        meta: 'json',
      },
      indexes: [['completed', 'dueAt']],
    },
    notes: {},
  },
});
const todos = schema.entities.get('todos');
if (!todos) throw new Error('todos is declared');

describe('defineSchema', () => {
  it('infers record types from the definition: non-nullable required, the rest optional and nullable', () => {
    type Todo = InferRecord<typeof schema, 'todos'>;
    expectTypeOf<Todo['title']>().toEqualTypeOf<string>();
    expectTypeOf<Todo['completed']>().toEqualTypeOf<boolean | null | undefined>();
    expectTypeOf<Todo['dueAt']>().toEqualTypeOf<number | null | undefined>();
    expectTypeOf<{ title: string }>().toExtend<Todo>();
    expectTypeOf<{ completed: true }>().not.toExtend<Todo>();
  });

  it('checks the definition like a schema file', () => {
    expect(() => defineSchema({ entities: { todos: { fields: { done: 'text' } } } } as never)).toThrow(SchemaError);
  });
});

describe('validateRecord', () => {
  it('accepts data that fits, undeclared fields included when not strict', () => {
    expect(
      validateRecord(
        'todos',
        todos,
        { title: 'a', completed: true, dueAt: 1, tags: [], meta: { a: 1 }, x: 1 },
        'record',
      ),
    ).toBeUndefined();
  });

  it('names the field and the problem', () => {
    expect(validateRecord('todos', todos, { completed: 'yes' })).toBe('todos.completed must be a boolean, got string');
    expect(validateRecord('todos', todos, { tags: {} })).toBe('todos.tags must be an array, got object');
    expect(validateRecord('todos', todos, { title: null })).toMatch(/todos\.title may not be null/);
  });

  it('requires non-nullable fields in a whole record, not in a patch', () => {
    expect(validateRecord('todos', todos, { completed: true }, 'record')).toMatch(/todos\.title is missing/);
    expect(validateRecord('todos', todos, { completed: true }, 'patch')).toBeUndefined();
  });

  it('lets a nullable field be cleared', () => {
    expect(validateRecord('todos', todos, { dueAt: null, completed: null })).toBeUndefined();
  });
});
