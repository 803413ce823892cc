import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { fastPullResponse, fastPushResponse, isServerRecord } from './fastParse.js';
import { encodeHlc } from './hlc.js';
import { PullResponseSchema, PushResponseSchema, ServerRecordSchema } from './schemas.js';

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
