import fc from 'fast-check';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { fastPullResponse, fastPushAckResponse, fastPushResponse, isServerRecord } from './fastParse.js';
import { encodeHlc } from './hlc.js';
import { PullResponseSchema, PushAckResponseSchema, PushResponseSchema, ServerRecordSchema } from './schemas.js';

const HLC = encodeHlc({ wallTime: 1_732_550_000_000, counter: 3, node: 'device-a' });

function record(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    entityType: 'todos',
    entityId: 'todo-1',
    data: { title: 'Buy milk', done: false, tags: ['a'], meta: { n: 1 } },
    deleted: false,
    version: 2,
    vector: { 'device-a': 2, server: 1 },
    hlc: HLC,
    fieldHlcs: { title: HLC, done: HLC },
    seq: 7,
    clientId: 'device-a',
    changeId: 'device-a:1',
    ...overrides,
  };
}

// Each variant is one way a record can be wrong (or merely unusual) on the wire.
const VARIANTS: Record<string, Record<string, unknown>> = {
  valid: {},
  tombstone: { data: null, deleted: true },
  'bad entity type': { entityType: '1todos' },
  'empty entity id': { entityId: '' },
  'long entity id': { entityId: 'x'.repeat(257) },
  'control character in id': { entityId: 'a\u0001b' },
  'lone surrogate in id': { entityId: 'a\ud800b' },
  'data array': { data: [1] },
  'bad field name': { data: { 'a-b': 1 } },
  'forbidden field': { data: JSON.parse('{"__proto__": 1}') },
  'deleted not boolean': { deleted: 1 },
  'negative version': { version: -1 },
  'fractional seq': { seq: 1.5 },
  'string seq': { seq: '7' },
  'vector bad key': { vector: { 'bad key': 1 } },
  'vector bad count': { vector: { a: -1 } },
  'vector array': { vector: [] },
  'vector constructor key': { vector: JSON.parse('{"constructor": 1}') },
  'bad hlc': { hlc: 'yesterday' },
  'bad field hlc': { fieldHlcs: { title: 'nope' } },
  'field hlc __proto__ key': { fieldHlcs: JSON.parse(`{"__proto__": "${HLC}"}`) },
  'bad client id': { clientId: 'constructor' },
  'bad change id': { changeId: '' },
  'extra key': { extra: true },
  'deep data': { data: JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`) },
};

describe('fast response validation', () => {
  for (const [name, overrides] of Object.entries(VARIANTS)) {
    it(`agrees with ServerRecordSchema: ${name}`, () => {
      const input = record(overrides);
      const slow = v.safeParse(ServerRecordSchema, input);
      if (isServerRecord(input)) {
        // The fast path only accepts what valibot accepts without altering it.
        expect(slow.success).toBe(true);
        expect(slow.output).toEqual(input);
      }
      const page = { changes: [record(), input], cursor: 9, hasMore: false, serverTime: 1 };
      const fast = fastPullResponse(page);
      const slowPage = v.safeParse(PullResponseSchema, page);
      if (fast) expect(slowPage.success && slowPage.output).toEqual(fast);
      else expect(slowPage.success ? JSON.stringify(slowPage.output) : 'rejected').not.toBe(JSON.stringify(page));
    });
  }

  it('takes the fast path for well-formed pages and push responses', () => {
    expect(fastPullResponse({ changes: [record()], cursor: 7, hasMore: true, serverTime: 5 })).toBeDefined();
    const push = {
      results: [
        { changeId: 'c1', status: 'applied', record: record() },
        { changeId: 'c2', status: 'duplicate', record: null },
        { changeId: 'c3', status: 'rejected', error: { code: 'VALIDATION_ERROR', message: 'no', retryable: false } },
      ],
      cursor: 7,
      serverTime: 5,
    };
    expect(fastPushResponse(push)).toBe(push);
    expect(v.safeParse(PushResponseSchema, push).success).toBe(true);
  });

  it("checks a snapshot page's horizon like valibot does", () => {
    const page = { changes: [record()], cursor: 7, hasMore: true, serverTime: 5 };
    expect(fastPullResponse({ ...page, horizon: 4 })).toEqual({ ...page, horizon: 4 });
    expect(v.safeParse(PullResponseSchema, { ...page, horizon: 4 }).output).toEqual({ ...page, horizon: 4 });
    for (const horizon of [-1, 1.5, '4', null]) {
      expect(fastPullResponse({ ...page, horizon })).toBeUndefined();
      expect(v.safeParse(PullResponseSchema, { ...page, horizon }).success).toBe(false);
    }
  });

  it('leaves malformed push responses to valibot', () => {
    const bad = [
      { results: [{ changeId: 'c1', status: 'maybe' }], cursor: 1, serverTime: 1 },
      { results: [{ changeId: 'c1', status: 'applied', record: record({ hlc: 'x' }) }], cursor: 1, serverTime: 1 },
      { results: [{ changeId: 'c1', status: 'rejected', error: { code: 1 } }], cursor: 1, serverTime: 1 },
      { results: [], cursor: -1, serverTime: 1 },
      { results: [], cursor: 1, serverTime: 1, extra: 1 },
    ];
    for (const body of bad) expect(fastPushResponse(body)).toBeUndefined();
  });
});

describe('fast response validation remembers only what passed', () => {
  // The fast checks remember strings that passed (field names, client ids, entity types, the
  // last stamp); a sequence mixing good and bad strings in any order must get, record by
  // record, valibot's verdict: accepted unchanged, or left to valibot.
  const stamp = (wallTime: number, node: string) => encodeHlc({ wallTime, counter: 0, node });
  const fieldNames = [
    'title',
    'done',
    '$x',
    '_y',
    'a-b',
    '1st',
    '__proto__',
    'constructor',
    'x'.repeat(64),
    'x'.repeat(65),
  ];
  const clientIds = ['device-a', 'server', 'b_2', 'bad key', 'constructor', '-x', 'y'.repeat(65)];
  const stamps = [HLC, stamp(1_732_550_000_001, 'device-a'), 'nope', `${HLC}x`, HLC.replace('-', '+'), stamp(1, 'z')];
  const types = ['todos', 'notes', '1todos', 'to do', 't'.repeat(65)];
  const values = fc.oneof(
    fc.constantFrom<unknown>(1, 'x', true, null, Number.NaN, Number.POSITIVE_INFINITY, [1, { a: 2 }], { n: 1 }),
    fc.constant(JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`)),
  );
  const entries = <T>(keys: string[], value: fc.Arbitrary<T>) =>
    fc.array(fc.tuple(fc.constantFrom(...keys), value), { maxLength: 4 }).map((pairs) => {
      // Built like JSON.parse builds it, so "__proto__" becomes an own key.
      return JSON.parse(JSON.stringify(Object.fromEntries(pairs.filter(([key]) => key !== '__proto__')))) as object;
    });
  const arbitraryRecord = fc.record({
    entityType: fc.constantFrom(...types),
    data: fc.oneof(fc.constant(null), entries(fieldNames, values)),
    vector: entries(clientIds, fc.constantFrom(0, 1, 7, -1, 1.5)),
    hlc: fc.constantFrom(...stamps),
    fieldHlcs: entries(fieldNames, fc.constantFrom(...stamps)),
    clientId: fc.constantFrom(...clientIds),
  });

  it('gives the verdict of ServerRecordSchema for every record of any sequence', () => {
    fc.assert(
      fc.property(fc.array(arbitraryRecord, { minLength: 1, maxLength: 30 }), (overrides) => {
        for (const override of overrides) {
          const input = record(override);
          const slow = v.safeParse(ServerRecordSchema, input);
          const unchanged = slow.success && JSON.stringify(slow.output) === JSON.stringify(input);
          expect(isServerRecord(input)).toBe(unchanged);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps refusing a string after many distinct good ones filled its memory', () => {
    for (let index = 0; index < 400; index++) {
      expect(isServerRecord(record({ data: { [`f${index}`]: 1 }, vector: { [`c${index}`]: 1 } }))).toBe(true);
    }
    expect(isServerRecord(record({ data: { 'a-b': 1 } }))).toBe(false);
    expect(isServerRecord(record({ vector: { 'bad key': 1 } }))).toBe(false);
    expect(isServerRecord(record({ data: { f399: 1 } }))).toBe(true);
  });
});

// Ways a result of a push that asked for compact acknowledgements can look on the wire.
const ACK_RESULTS: Record<string, Record<string, unknown>> = {
  compact: { changeId: 'c1', status: 'applied', version: 1, seq: 2 },
  'compact duplicate': { changeId: 'c1', status: 'duplicate', version: 3, seq: 9 },
  'compact conflict': { changeId: 'c1', status: 'conflict', version: 1, seq: 2 },
  'compact rejected': { changeId: 'c1', status: 'rejected', version: 1, seq: 2 },
  'compact without seq': { changeId: 'c1', status: 'applied', version: 1 },
  'compact without version': { changeId: 'c1', status: 'applied', seq: 1 },
  'compact negative seq': { changeId: 'c1', status: 'applied', version: 1, seq: -1 },
  'compact string version': { changeId: 'c1', status: 'applied', version: '1', seq: 1 },
  'compact with record': { changeId: 'c1', status: 'applied', version: 1, seq: 2, record: record() },
  'compact with error': {
    changeId: 'c1',
    status: 'applied',
    version: 1,
    seq: 2,
    error: { code: 'X', message: 'm', retryable: false },
  },
  'compact extra key': { changeId: 'c1', status: 'applied', version: 1, seq: 2, extra: 1 },
  'compact bad change id': { changeId: '', status: 'applied', version: 1, seq: 2 },
  full: { changeId: 'c1', status: 'applied', record: record() },
  'full without record': { changeId: 'c1', status: 'applied' },
  'full bad record': { changeId: 'c1', status: 'applied', record: record({ hlc: 'x' }) },
  rejected: {
    changeId: 'c1',
    status: 'rejected',
    error: { code: 'VALIDATION_ERROR', message: 'no', retryable: false },
  },
};

describe('fast validation of compact acknowledgements', () => {
  for (const [name, result] of Object.entries(ACK_RESULTS)) {
    it(`agrees with PushAckResponseSchema: ${name}`, () => {
      const body = { results: [ACK_RESULTS.compact, result], cursor: 2, serverTime: 5 };
      const slow = v.safeParse(PushAckResponseSchema, body);
      const fast = fastPushAckResponse(body);
      // The fast path only accepts what valibot accepts without altering it.
      if (fast) expect(slow.success && slow.output).toEqual(fast);
      else expect(slow.success ? JSON.stringify(slow.output) : 'rejected').not.toBe(JSON.stringify(body));
    });
  }

  it('takes the fast path for compact and full results alike, and refuses a compact result valibot refuses', () => {
    const body = { results: [ACK_RESULTS.compact, ACK_RESULTS.full, ACK_RESULTS.rejected], cursor: 2, serverTime: 5 };
    expect(fastPushAckResponse(body)).toBe(body);
    for (const name of ['compact conflict', 'compact without seq', 'compact with record', 'compact extra key']) {
      const bad = { results: [ACK_RESULTS[name]], cursor: 2, serverTime: 5 };
      expect(fastPushAckResponse(bad)).toBeUndefined();
      expect(v.safeParse(PushAckResponseSchema, bad).success).toBe(false);
    }
  });
});
