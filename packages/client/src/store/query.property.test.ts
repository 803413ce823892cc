/**
 * Queries never return wrong results: random records and random filters, sorts and pages run in
 * SQLite (on the declared indexes) and in a plain JavaScript model of the documented semantics,
 * and must agree. Strings are ASCII, where SQLite's binary order and JavaScript's agree.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineSchema } from '@ferry/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collection } from '../data/Collection.js';
import { createBetterSqliteDriver } from '../drivers/better-sqlite3.js';
import { ChangeTracker } from '../tracking/ChangeTracker.js';
import { LocalStore } from './LocalStore.js';
import type { FindOptions, SortKey } from './types.js';

const schema = defineSchema({
  entities: {
    items: {
      fields: {
        s: { type: 'string', indexed: true },
        n: { type: 'number', indexed: true },
        b: 'boolean',
      },
      indexes: [['b', 'n']],
    },
  },
});

type Value = string | number | boolean | null;
type Item = { id: string; s: string | null; n: number | null; b: boolean | null };
type Field = 's' | 'n' | 'b';

const letters = fc.constantFrom('a', 'b', 'A', '%', '_', ' ');
const text = fc.string({ unit: letters, maxLength: 4 });
const values: Record<Field, fc.Arbitrary<Value>> = {
  s: fc.option(text, { nil: null }),
  n: fc.option(fc.integer({ min: -3, max: 3 }), { nil: null }),
  b: fc.option(fc.boolean(), { nil: null }),
};
const itemsArb = fc.uniqueArray(
  fc.record({ id: fc.stringMatching(/^[a-z]{1,3}$/), s: values.s, n: values.n, b: values.b }),
  { selector: (item) => item.id, maxLength: 25 },
) as fc.Arbitrary<Item[]>;

/** A condition on one field: [field, operator, operand]. */
type Condition = [Field, string, unknown];
type Filter = { conditions: Condition[] } | { and: Filter[] } | { or: Filter[] };

const scalar = (field: Field) =>
  values[field].filter((value) => value !== null) as fc.Arbitrary<string | number | boolean>;
const conditionArb: fc.Arbitrary<Condition> = fc.constantFrom<Field>('s', 'n', 'b').chain((field) => {
  const options: fc.Arbitrary<Condition>[] = [
    values[field].map((value): Condition => [field, 'eq', value]),
    values[field].map((value): Condition => [field, 'ne', value]),
    fc.array(scalar(field), { maxLength: 3 }).map((list): Condition => [field, 'in', list]),
    fc.array(scalar(field), { maxLength: 3 }).map((list): Condition => [field, 'notIn', list]),
    fc.boolean().map((flag): Condition => [field, 'isNull', flag]),
  ];
  if (field !== 'b') {
    for (const op of ['gt', 'gte', 'lt', 'lte'])
      options.push(scalar(field).map((value): Condition => [field, op, value]));
  }
  if (field === 's') {
    const pattern = fc.string({ unit: fc.constantFrom('a', 'A', 'b', '%', '_', '\\%', '\\_'), maxLength: 3 });
    options.push(pattern.map((value): Condition => [field, 'like', value]));
    options.push(text.map((value): Condition => [field, 'startsWith', value]));
    options.push(text.map((value): Condition => [field, 'contains', value]));
  }
  return fc.oneof(...options);
});
const filterArb: fc.Arbitrary<Filter> = fc.letrec<{ filter: Filter }>((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ conditions: fc.array(conditionArb, { maxLength: 3 }) }),
    fc.record({ and: fc.array(tie('filter'), { maxLength: 3 }) }),
    fc.record({ or: fc.array(tie('filter'), { maxLength: 3 }) }),
  ),
})).filter;
const sortArb = fc.array(
  fc.record({
    field: fc.constantFrom<Field | 'id'>('s', 'n', 'b', 'id'),
    direction: fc.constantFrom<'asc' | 'desc'>('asc', 'desc'),
    nulls: fc.constantFrom<'first' | 'last' | undefined>(undefined, 'first', 'last'),
  }),
  { maxLength: 3 },
);

/** The filter as the query API takes it. Conditions on one field in one object merge into one. */
function toWhere(filter: Filter): Record<string, unknown> {
  if ('and' in filter) return { and: filter.and.map(toWhere) };
  if ('or' in filter) return { or: filter.or.map(toWhere) };
  // Several conditions on the same field and operator cannot share one object: nest them.
  return { and: filter.conditions.map(([field, op, operand]) => ({ [field]: { [op]: operand } })) };
}

/** SQLite's LIKE with ESCAPE '\': % any run, _ one character, ASCII letters case-insensitive. */
function like(value: string, pattern: string): boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) source += (pattern[++i] as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '%') source += '[\\s\\S]*';
    else if (c === '_') source += '[\\s\\S]';
    else source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'i').test(value);
}

function holds(item: Item, [field, op, operand]: Condition): boolean {
  const v = item[field];
  switch (op) {
    case 'eq':
      return operand === null ? v === null : v === operand;
    case 'ne':
      return operand === null ? v !== null : v !== operand;
    case 'gt':
      return v !== null && (v as number) > (operand as number);
    case 'gte':
      return v !== null && (v as number) >= (operand as number);
    case 'lt':
      return v !== null && (v as number) < (operand as number);
    case 'lte':
      return v !== null && (v as number) <= (operand as number);
    case 'in':
      return v !== null && (operand as Value[]).includes(v);
    case 'notIn':
      return v === null || !(operand as Value[]).includes(v);
    case 'isNull':
      return (v === null) === operand;
    case 'like':
      return v !== null && like(v as string, operand as string);
    case 'startsWith':
      return v !== null && (v as string).startsWith(operand as string);
    case 'contains':
      return v !== null && (v as string).includes(operand as string);
    default:
      throw new Error(`no model for ${op}`);
  }
}

function matches(item: Item, filter: Filter): boolean {
  if ('and' in filter) return filter.and.every((part) => matches(item, part));
  if ('or' in filter) return filter.or.some((part) => matches(item, part));
  return filter.conditions.every((condition) => holds(item, condition));
}

/** SQLite's order: NULL lowest (first ascending), numbers and booleans (0/1) by value, text by bytes. */
function compareValues(a: Value, b: Value): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  const x = typeof a === 'boolean' ? Number(a) : a;
  const y = typeof b === 'boolean' ? Number(b) : b;
  return x < y ? -1 : x > y ? 1 : 0;
}

function sortModel(
  items: Item[],
  keys: Array<{ field: Field | 'id'; direction: 'asc' | 'desc'; nulls?: 'first' | 'last' }>,
) {
  const last = keys.length === 0 ? 'asc' : (keys[keys.length - 1] as { direction: 'asc' | 'desc' }).direction;
  return [...items].sort((p, q) => {
    for (const { field, direction, nulls } of keys) {
      const a = field === 'id' ? p.id : p[field];
      const b = field === 'id' ? q.id : q[field];
      if ((a === null) !== (b === null) && nulls !== undefined) return (a === null) === (nulls === 'first') ? -1 : 1;
      const order = compareValues(a, b) * (direction === 'desc' ? -1 : 1);
      if (order !== 0) return order;
    }
    return (p.id < q.id ? -1 : p.id > q.id ? 1 : 0) * (last === 'desc' ? -1 : 1);
  });
}

let dir: string;
let round = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-query-property-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('queries agree with a model of their semantics', () => {
  it('for random records, filters, sort keys and pages', async () => {
    await fc.assert(
      fc.asyncProperty(
        itemsArb,
        filterArb,
        sortArb,
        fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
        fc.integer({ min: 0, max: 4 }),
        async (items, filter, sort, limit, offset) => {
          const store = await LocalStore.open(createBetterSqliteDriver(join(dir, `r${round++}.db`)), { schema });
          try {
            const collection = new Collection('items', new ChangeTracker(store, 'device-p'));
            for (const { id, ...fields } of items) await collection.insert({ id, ...fields });
            const options: FindOptions = {
              where: toWhere(filter) as FindOptions['where'],
              orderBy: sort.map(({ nulls, ...key }) => (nulls === undefined ? key : { ...key, nulls })) as SortKey[],
              ...(limit === undefined ? {} : { limit, offset }),
            };
            const expected = sortModel(
              items.filter((item) => matches(item, filter)),
              sort,
            );
            const page = limit === undefined ? expected : expected.slice(offset, offset + limit);
            expect((await collection.find(options)).map((doc) => doc.id)).toEqual(page.map((item) => item.id));
            expect(await collection.count(options.where)).toBe(expected.length);
          } finally {
            await store.close();
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
