import fc from 'fast-check';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { encodeHlc } from './hlc.js';
import {
  ChangeIdSchema,
  ChangeSchema,
  ClientIdSchema,
  describeIssues,
  EntityIdSchema,
  isWellFormedText,
  PullQuerySchema,
  RecordDataSchema,
  ServerRecordSchema,
  VersionVectorSchema,
} from './schemas.js';
import { LIMITS } from './version.js';

const HLC = encodeHlc({ wallTime: 1_732_550_000_000, counter: 0, node: 'device-a' });

function validChange(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'device-a:1',
    entityType: 'todos',
    entityId: 'todo-1',
    operation: 'UPDATE',
    data: { title: 'Buy milk', done: false, tags: ['a'], meta: { n: 1 } },
    timestamp: 1_732_550_000_000,
    hlc: HLC,
    version: 2,
    vector: { 'device-a': 2, server: 1 },
    clientId: 'device-a',
    ...overrides,
  };
}

function problems(input: unknown): string | undefined {
  const result = v.safeParse(ChangeSchema, input);
  return result.success ? undefined : describeIssues(result.issues);
}

/** Data whose objects nest `levels` deep, the data object itself being level 1. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: true };
  for (let level = 1; level < levels; level += 1) value = { child: value };
  return value;
}

describe('ChangeSchema', () => {
  it('accepts a valid change of each operation', () => {
    expect(problems(validChange())).toBeUndefined();
    expect(problems(validChange({ operation: 'CREATE', version: 1, vector: { 'device-a': 1 } }))).toBeUndefined();
    expect(problems(validChange({ operation: 'DELETE', data: null }))).toBeUndefined();
    expect(problems(validChange({ fieldHlcs: { title: HLC } }))).toBeUndefined();
  });

  it('accepts what arrives as JSON text', () => {
    expect(problems(JSON.parse(JSON.stringify(validChange())))).toBeUndefined();
  });

  it.each([
    ['timestamp as a string', { timestamp: '1732550000000' }, /timestamp/],
    ['a fractional timestamp', { timestamp: 1.5 }, /timestamp/],
    ['a negative timestamp', { timestamp: -1 }, /timestamp/],
    ['NaN as a timestamp', { timestamp: Number.NaN }, /timestamp/],
    ['version 0', { version: 0 }, /version/],
    ['an unknown operation', { operation: 'PATCH' }, /operation/],
    ['an entity type that is no identifier', { entityType: 'todos; DROP TABLE x' }, /entityType/],
    ['an empty entity id', { entityId: '' }, /entityId/],
    ['a control character in the entity id', { entityId: 'a\nb' }, /entityId/],
    ['a wall-clock date as hlc', { hlc: '2024-11-25T00:00:00Z' }, /hlc/],
    ['a client id with a space', { clientId: 'device a' }, /clientId/],
    ['a negative vector entry', { vector: { 'device-a': -1 } }, /vector/],
    ['data as an array', { data: [1, 2] }, /data/],
    ['data as a string', { data: 'x' }, /data/],
  ])('rejects %s', (_name, overrides, path) => {
    expect(problems(validChange(overrides))).toMatch(path);
  });

  it('rejects unknown keys', () => {
    expect(problems(validChange({ userId: 'someone-else' }))).toMatch(/userId/);
  });

  it('rejects DELETE with data, and CREATE or UPDATE without', () => {
    expect(problems(validChange({ operation: 'DELETE' }))).toMatch(/data must be null for DELETE/);
    expect(problems(validChange({ operation: 'CREATE', data: null }))).toMatch(/data must be null for DELETE/);
  });

  it.each(['__proto__', 'constructor', 'prototype'])('rejects a "%s" field rather than dropping it', (field) => {
    const text = JSON.stringify(validChange()).replace('"title":', `"${field}":{"polluted":true},"title":`);
    const input = JSON.parse(text);
    expect(Object.hasOwn(input.data, field)).toBe(true);
    expect(problems(input)).toMatch(/data/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects a prototype key nested anywhere in the data', () => {
    const input = JSON.parse(JSON.stringify(validChange()).replace('"n":1', '"__proto__":{"x":1}'));
    expect(problems(input)).toMatch(/key "__proto__" is not allowed/);
  });

  it('rejects field names that are not plain identifiers', () => {
    expect(problems(validChange({ data: { 'a.b': 1 } }))).toMatch(/field name "/);
    expect(problems(validChange({ data: { "x'); --": 1 } }))).toMatch(/field name "/);
  });

  it(`accepts data nested ${LIMITS.maxJsonDepth} levels deep and rejects one level more`, () => {
    expect(problems(validChange({ data: nested(LIMITS.maxJsonDepth) }))).toBeUndefined();
    expect(problems(validChange({ data: nested(LIMITS.maxJsonDepth + 1) }))).toMatch(/nesting deeper than/);
  });

  it('rejects numbers JSON cannot carry', () => {
    expect(problems(validChange({ data: { n: Number.NaN } }))).toMatch(/numbers must be finite/);
    expect(problems(validChange({ data: { n: [Number.POSITIVE_INFINITY] } }))).toMatch(/numbers must be finite/);
  });

  it('rejects values that are not plain JSON', () => {
    expect(problems(validChange({ data: { when: new Date(0) } }))).toMatch(/only plain objects/);
    expect(problems(validChange({ data: { f: () => 1 } }))).toMatch(/not a JSON value/);
  });

  it.each([
    ['an empty array', []],
    ['an array of stamps', [HLC]],
    ['a string', HLC],
    ['null', null],
  ])('rejects fieldHlcs as %s rather than turning it into an object', (_name, fieldHlcs) => {
    expect(problems(validChange({ fieldHlcs }))).toMatch(/fieldHlcs/);
  });

  it('rejects fieldHlcs keyed by something that is not a field name', () => {
    expect(problems(validChange({ fieldHlcs: { '0': HLC } }))).toMatch(/fieldHlcs keys must be field names/);
    expect(problems(validChange(JSON.parse(`{"fieldHlcs":{"__proto__":"${HLC}"}}`)))).toMatch(/fieldHlcs/);
    expect(problems(validChange(JSON.parse(`{"fieldHlcs":{"constructor":"${HLC}"}}`)))).toMatch(/fieldHlcs/);
  });

  it.each([
    ['a lone high surrogate', 'todo-\ud800'],
    ['a lone low surrogate', '\udc00-todo'],
    ['two high surrogates', '\ud800\ud800\udc00'],
  ])('rejects an entity id with %s rather than storing U+FFFD', (_name, escaped) => {
    const entityId = JSON.parse(`"${escaped}"`) as string;
    expect(problems(validChange({ entityId }))).toMatch(/entityId must be well-formed Unicode/);
  });

  it('accepts an entity id with a surrogate pair (an emoji)', () => {
    expect(problems(validChange({ entityId: 'todo-😀' }))).toBeUndefined();
  });

  it.each([
    ['a lone surrogate in a value', { title: 'a\ud800b' }, /lone surrogate/],
    ['a lone surrogate nested in an array', { tags: ['ok', '\udfff'] }, /lone surrogate/],
    ['a NUL character', { title: 'a\u0000b' }, /NUL character/],
  ])('rejects data with %s, which storage would alter or refuse', (_name, data, message) => {
    expect(problems(validChange({ data }))).toMatch(message);
    // Responses stay readable: a record stored before this rule must still pull.
    expect(v.safeParse(RecordDataSchema, data).success).toBe(true);
  });

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withObjectString: true }), (anything) => {
        expect(() => v.safeParse(ChangeSchema, anything)).not.toThrow();
        expect(() => v.safeParse(ChangeSchema, validChange({ data: anything }))).not.toThrow();
      }),
    );
  });
});

describe('string ids', () => {
  it('refuses a lone surrogate in every id, whatever its other rules', () => {
    const lone = JSON.parse('"\\ud83d"') as string;
    expect(isWellFormedText(lone)).toBe(false);
    expect(isWellFormedText('😀 ok')).toBe(true);
    for (const schema of [EntityIdSchema, ChangeIdSchema, ClientIdSchema]) {
      expect(v.safeParse(schema, `id-${lone}`).success).toBe(false);
      expect(v.safeParse(schema, 'id-1').success).toBe(true);
    }
  });

  it('agrees with String.prototype.isWellFormed on random strings', () => {
    const native = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;
    if (native === undefined) return; // Node 20+ has it; the hand-written check exists for Hermes.
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        fc.string({ unit: fc.integer({ min: 0xd7ff, max: 0xe000 }).map((code) => String.fromCharCode(code)) }),
        (a, b) => {
          expect(isWellFormedText(a + b)).toBe(native.call(a + b));
        },
      ),
    );
  });
});

describe('PullQuerySchema', () => {
  it('accepts a cursor up to 2^53-1 and refuses one past it', () => {
    expect(v.safeParse(PullQuerySchema, { cursor: String(Number.MAX_SAFE_INTEGER) }).success).toBe(true);
    const past = v.safeParse(PullQuerySchema, { cursor: '9999999999999999' });
    expect(past.success).toBe(false);
    expect(past.success ? '' : describeIssues(past.issues)).toMatch(/cursor must be at most 9007199254740991/);
  });
});

describe('ClientIdSchema', () => {
  it('refuses ids that are Object.prototype keys a version vector could not hold', () => {
    expect(v.safeParse(ClientIdSchema, 'device-a').success).toBe(true);
    expect(v.safeParse(ClientIdSchema, 'toString').success).toBe(true);
    expect(v.safeParse(ClientIdSchema, 'constructor').success).toBe(false);
    expect(v.safeParse(ClientIdSchema, 'prototype').success).toBe(false);
    expect(v.safeParse(ClientIdSchema, 'constructor2').success).toBe(true);
  });
});

describe('VersionVectorSchema', () => {
  it('keeps every entry of a valid vector', () => {
    const vector = { 'device-a': 3, toString: 1, server: 0 };
    expect(v.parse(VersionVectorSchema, vector)).toEqual(vector);
  });

  it('rejects a prototype key rather than dropping it', () => {
    const result = v.safeParse(VersionVectorSchema, JSON.parse('{"device-a":1,"constructor":2}'));
    expect(result.success).toBe(false);
  });

  it('rejects a vector with too many entries', () => {
    const big = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`n${i}`, 1]));
    expect(v.safeParse(VersionVectorSchema, big).success).toBe(false);
  });
});

describe('ServerRecordSchema', () => {
  it('accepts a tombstone', () => {
    const tombstone = {
      entityType: 'todos',
      entityId: 'todo-1',
      data: null,
      deleted: true,
      version: 3,
      vector: { 'device-a': 2 },
      hlc: HLC,
      fieldHlcs: {},
      seq: 9,
      clientId: 'device-a',
      changeId: 'device-a:3',
    };
    expect(v.safeParse(ServerRecordSchema, tombstone).success).toBe(true);
  });
});
