import fc from 'fast-check';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { fastChange } from './fastChange.js';
import { encodeHlc } from './hlc.js';
import { ChangeSchema } from './schemas.js';

const HLC = encodeHlc({ wallTime: 1_732_550_000_000, counter: 3, node: 'device-a' });

function change(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: `${HLC}.a1b2c3`,
    entityType: 'todos',
    entityId: 'todo-1',
    operation: 'UPDATE',
    data: { title: 'Buy milk', done: false, tags: ['a'], meta: { n: 1.5 } },
    timestamp: 1_732_550_000_000,
    hlc: HLC,
    version: 2,
    vector: { 'device-a': 2, server: 1 },
    clientId: 'device-a',
    ...overrides,
  };
}

/**
 * The fast path's contract: whatever it accepts, ChangeSchema accepts with the same output
 * (same keys in the same order, same values); what it leaves alone, ChangeSchema judges.
 */
function expectAgreement(input: unknown): 'fast' | 'valibot' | 'refused' {
  const slow = v.safeParse(ChangeSchema, input);
  const fast = fastChange(input);
  if (fast === undefined) return slow.success ? 'valibot' : 'refused';
  expect(slow.success).toBe(true);
  if (!slow.success) return 'refused';
  expect(fast).toStrictEqual(slow.output);
  expect(Object.keys(fast)).toEqual(Object.keys(slow.output));
  expect(JSON.stringify(fast)).toBe(JSON.stringify(slow.output));
  return 'fast';
}

const deep = (levels: number) => JSON.parse(`${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`);

// Each variant is one way a pushed change can be wrong, hostile or merely unusual.
const VARIANTS: Record<string, Record<string, unknown>> = {
  valid: {},
  create: { operation: 'CREATE', version: 1, vector: { 'device-a': 1 } },
  delete: { operation: 'DELETE', data: null },
  'delete with data': { operation: 'DELETE' },
  'update without data': { data: null },
  'with field stamps': { fieldHlcs: { title: HLC, done: HLC } },
  'in a space': { space: 'sp_abcdef' },
  'space member': { entityType: '$member', space: 'sp_abcdef', entityId: 'sp_abcdef:alice' },
  'reserved-looking type': { entityType: '$other' },
  'bad space': { space: 'team' },
  'bad change id': { id: '.x' },
  'long change id': { id: 'a'.repeat(129) },
  'number id': { id: 7 },
  'bad entity type': { entityType: '1todos' },
  'empty entity id': { entityId: '' },
  'long entity id': { entityId: 'x'.repeat(257) },
  'longest entity id': { entityId: 'x'.repeat(256) },
  'control character in id': { entityId: 'a\u0001b' },
  'DEL in id': { entityId: 'a\u007fb' },
  'lone surrogate in id': { entityId: 'a\ud800b' },
  'emoji id': { entityId: 'a😀b' },
  'bad operation': { operation: 'upsert' },
  'data array': { data: [1] },
  'data string': { data: 'x' },
  'bad field name': { data: { 'a-b': 1 } },
  'digit field name': { data: { '1a': 1 } },
  'constructor field': { data: JSON.parse('{"constructor": 1}') },
  'proto field': { data: JSON.parse('{"__proto__": 1}') },
  'nested proto key': { data: { a: JSON.parse('{"__proto__": {"x": 1}}') } },
  'nested prototype key': { data: { a: { prototype: 1 } } },
  'nested odd key': { data: { a: { 'any key at all': 1 } } },
  'NUL in a value': { data: { title: 'a\u0000b' } },
  'NUL in a nested key': { data: { a: { 'x\u0000': 1 } } },
  'lone surrogate in a value': { data: { title: 'a\udc00' } },
  'lone surrogate in an array': { data: { list: ['ok', '\ud800'] } },
  'infinite number': { data: { n: Number.POSITIVE_INFINITY } },
  NaN: { data: { n: Number.NaN } },
  'deepest data': { data: deep(31) },
  'too deep data': { data: deep(32) },
  'date in data': { data: { at: new Date(0) } },
  'null-prototype data': { data: Object.assign(Object.create(null), { a: 1 }) },
  'negative timestamp': { timestamp: -1 },
  'fractional timestamp': { timestamp: 1.5 },
  'unsafe timestamp': { timestamp: 2 ** 53 },
  'string timestamp': { timestamp: '1' },
  'bad hlc': { hlc: 'yesterday' },
  'version 0': { version: 0 },
  'negative zero version': { version: -0 },
  'vector bad key': { vector: { 'bad key': 1 } },
  'vector bad count': { vector: { a: -1 } },
  'vector fractional count': { vector: { a: 0.5 } },
  'vector array': { vector: [] },
  'vector null': { vector: null },
  'vector constructor key': { vector: JSON.parse('{"constructor": 1}') },
  'vector proto key': { vector: JSON.parse('{"__proto__": 1}') },
  'empty vector': { vector: {} },
  'vector of 1001': { vector: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`d${i}`, 1])) },
  'vector of 1000': { vector: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`d${i}`, 1])) },
  'bad client id': { clientId: 'constructor' },
  'field hlcs array': { fieldHlcs: [HLC] },
  'bad field hlc': { fieldHlcs: { title: 'nope' } },
  'field hlc constructor key': { fieldHlcs: JSON.parse(`{"constructor": "${HLC}"}`) },
  'field hlc proto key': { fieldHlcs: JSON.parse(`{"__proto__": "${HLC}"}`) },
  'field hlc bad name': { fieldHlcs: { 'a b': HLC } },
  'fieldHlcs undefined': { fieldHlcs: undefined },
  'space undefined': { space: undefined },
  'extra key': { extra: true },
  'base version key': { baseVersion: 1 },
};

describe('fastChange', () => {
  for (const [name, overrides] of Object.entries(VARIANTS)) {
    it(`agrees with ChangeSchema: ${name}`, () => {
      expectAgreement(change(overrides));
      expectAgreement(JSON.parse(JSON.stringify(change(overrides)) ?? 'null'));
    });
  }

  it('takes the fast path for the changes devices send', () => {
    for (const name of ['valid', 'create', 'delete', 'with field stamps', 'in a space', 'emoji id', 'deepest data']) {
      expect({ name, path: expectAgreement(change(VARIANTS[name])) }).toEqual({ name, path: 'fast' });
    }
  });

  it('agrees with ChangeSchema when keys are missing or the change is not an object', () => {
    for (const key of Object.keys(change())) {
      const { [key]: _dropped, ...rest } = change();
      expect(expectAgreement(rest)).toBe('refused');
    }
    for (const value of [null, undefined, 1, 'change', [], [change()], new Map()]) expectAgreement(value);
  });

  // Random changes: each field valid, or replaced by an arbitrary value, or dropped; random
  // extra keys; random JSON in data. Checked as built and after a trip through JSON.
  const text = fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.constantFrom('', '\u0000', '\ud800', 'a\udfff', '__proto__', 'constructor', 'sp_abcdef', HLC, '$member'),
  );
  const json = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constant(null),
      fc.boolean(),
      fc.double(),
      fc.integer(),
      text,
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(text, tie('value'), { maxKeys: 4 }),
    ),
  })).value;
  const validChange = fc
    .record({
      id: fc.constantFrom(`${HLC}.x`, 'c1', 'a:b.c-d_e'),
      entityType: fc.constantFrom('todos', 'notes', '$space', '$member'),
      entityId: fc.oneof(fc.constantFrom('todo-1', 'é😀'), fc.string({ minLength: 1, maxLength: 8 })),
      operation: fc.constantFrom('CREATE', 'UPDATE', 'DELETE'),
      data: fc.dictionary(fc.constantFrom('title', 'done', 'n', '$x', '_y'), json, {
        maxKeys: 4,
        noNullPrototype: true,
      }),
      timestamp: fc.nat(),
      hlc: fc.constant(HLC),
      version: fc.integer({ min: 1, max: 5 }),
      vector: fc.dictionary(fc.constantFrom('device-a', 'b', 'server'), fc.nat(9), { noNullPrototype: true }),
      clientId: fc.constantFrom('device-a', 'server'),
      fieldHlcs: fc.option(
        fc.dictionary(fc.constantFrom('title', 'done'), fc.constant(HLC), { noNullPrototype: true }),
        {
          nil: undefined,
        },
      ),
      space: fc.option(fc.constantFrom('sp_abcdef', 'sp_0123456789'), { nil: undefined }),
    })
    .map(({ fieldHlcs, space, ...rest }) => ({
      ...rest,
      data: rest.operation === 'DELETE' ? null : rest.data,
      ...(fieldHlcs === undefined ? {} : { fieldHlcs }),
      ...(space === undefined ? {} : { space }),
    }));
  // Up to two edits: a key set to an arbitrary value (JSON or anything at all), or dropped.
  const edit = fc.record({
    key: fc.constantFrom(...Object.keys(change()), 'fieldHlcs', 'space', 'extra', '__proto__'),
    value: fc.oneof(fc.anything(), json, text, fc.constant(undefined)),
    drop: fc.boolean(),
  });
  const arbitraryChange = fc.tuple(validChange, fc.array(edit, { maxLength: 2 })).map(([base, edits]) => {
    const result: Record<string, unknown> = { ...base };
    for (const { key, value, drop } of edits) {
      if (drop) delete result[key];
      else Object.defineProperty(result, key, { value, enumerable: true, configurable: true, writable: true });
    }
    return result;
  });

  it('agrees with ChangeSchema on random changes, as built and after a JSON round trip', () => {
    const paths = { fast: 0, valibot: 0, refused: 0 };
    fc.assert(
      fc.property(arbitraryChange, (input) => {
        paths[expectAgreement(input)]++;
        const wire = JSON.stringify(input);
        if (wire !== undefined) paths[expectAgreement(JSON.parse(wire))]++;
      }),
      { numRuns: 3000 },
    );
    // The run exercised both verdicts, and the fast path took most of the valid changes (it
    // leaves null-prototype objects and the like to valibot).
    expect(paths.refused).toBeGreaterThan(500);
    expect(paths.fast).toBeGreaterThan(2 * paths.valibot);
  });
});
