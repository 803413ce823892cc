import fc from 'fast-check';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { compactRecord, expandCompactRecords, fieldHlcsTextOmittable, omitsFieldHlcs } from './compactRecords.js';
import { fastPullResponse } from './fastParse.js';
import { encodeHlc } from './hlc.js';
import { PullResponseSchema, type ServerRecord } from './schemas.js';

const HLC = encodeHlc({ wallTime: 1_795_643_600_000, counter: 7, node: 'device-a' });
const EARLIER = encodeHlc({ wallTime: 1_795_643_500_000, counter: 0, node: 'device-b' });

// Field names that reorder (integer-like keys come first in an object), need escaping, or
// would set a prototype if assigned.
const FIELDS = ['title', 'b', '10', '2', 'é', 'say "hi"', 'back\\slash', '__proto__'];

/** How a record's field stamps relate to its data: every variant a server can hold. */
const STAMPINGS = ['own', 'reordered', 'one-earlier', 'one-missing', 'one-extra', 'none'] as const;

function stampsFor(data: Record<string, unknown> | null, stamping: (typeof STAMPINGS)[number]): Record<string, string> {
  const fields = data === null ? [] : Object.keys(data);
  const entries: Array<[string, string]> = fields.map((field) => [field, HLC]);
  if (stamping === 'reordered') entries.reverse();
  if (stamping === 'one-earlier' && entries[0]) entries[0] = [entries[0][0], EARLIER];
  if (stamping === 'one-missing') entries.pop();
  if (stamping === 'one-extra') entries.push(['zz', HLC]);
  if (stamping === 'none') entries.length = 0;
  // Through JSON text, as a server holds it: own '__proto__' keys, integer-like keys first.
  return JSON.parse(JSON.stringify(Object.fromEntries(entries)));
}

const recordArb: fc.Arbitrary<ServerRecord> = fc
  .record({
    data: fc.option(fc.dictionary(fc.constantFrom(...FIELDS), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }), {
      nil: null,
    }),
    stamping: fc.constantFrom(...STAMPINGS),
  })
  .map(({ data, stamping }) => {
    const stored = data === null ? null : (JSON.parse(JSON.stringify(data)) as Record<string, never>);
    return {
      entityType: 'notes',
      entityId: 'n1',
      data: stored,
      deleted: stored === null,
      version: 3,
      vector: { 'device-a': 2, 'device-b': 1 },
      hlc: HLC,
      fieldHlcs: stampsFor(stored, stamping),
      seq: 42,
      clientId: 'device-a',
      changeId: `${HLC}.k3x9qa`,
    };
  });

/** A record as the client receives it: through JSON text. */
function overTheWire<T>(value: T): T {
  return JSON.parse(JSON.stringify(value));
}

describe('compact pulled records', () => {
  it('the stored-text check gives the object check’s verdict', () => {
    fc.assert(
      fc.property(recordArb, (record) => {
        const dataText = record.data === null ? null : JSON.stringify(record.data);
        expect(fieldHlcsTextOmittable(dataText, JSON.stringify(record.fieldHlcs), record.hlc)).toBe(
          omitsFieldHlcs(record),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('a compact record, expanded by the client, is exactly the whole record, key order included', () => {
    fc.assert(
      fc.property(recordArb, (record) => {
        const compact = compactRecord(record);
        if (!omitsFieldHlcs(record)) expect(compact).toBe(record);
        const received = overTheWire([compact]);
        expandCompactRecords(received);
        expect(JSON.stringify(received[0])).toBe(JSON.stringify(record));
        expect(received[0]).toEqual(record);
      }),
      { numRuns: 500 },
    );
  });

  it('leaves out the stamps exactly when every field carries the record’s stamp, in data order', () => {
    const data = { title: 'Buy milk', completed: false, '2': 'two' };
    const own = { ...stampsFor(data, 'own') };
    expect(Object.keys(own)).toEqual(['2', 'title', 'completed']);
    const record = (fieldHlcs: Record<string, string>, recordData: object | null = overTheWire(data)) =>
      ({ ...overTheWire(recordFromParts()), data: recordData, fieldHlcs }) as ServerRecord;
    expect(compactRecord(record(own))).not.toHaveProperty('fieldHlcs');
    for (const stamping of ['reordered', 'one-earlier', 'one-missing', 'one-extra', 'none'] as const) {
      expect(compactRecord(record(stampsFor(data, stamping))), stamping).toHaveProperty('fieldHlcs');
    }
    // A tombstone, and a field named __proto__ (an assignment could not rebuild it), stay whole.
    expect(compactRecord(record({}, null))).toHaveProperty('fieldHlcs');
    const proto = JSON.parse('{"__proto__": 1, "a": 2}');
    expect(compactRecord(record(stampsFor(proto, 'own'), proto))).toHaveProperty('fieldHlcs');
    expect(fieldHlcsTextOmittable('{"__proto__":1,"a":2}', `{"__proto__":"${HLC}","a":"${HLC}"}`, HLC)).toBe(false);
  });

  it('expands only what it can rebuild; validation judges the rest', () => {
    const whole = recordFromParts();
    const { fieldHlcs: _dropped, ...compact } = whole;
    const page = (changes: unknown[]) => ({ changes, cursor: 42, hasMore: false, serverTime: 1 });
    const good = overTheWire(page([compact, whole]));
    expandCompactRecords(good.changes);
    expect(fastPullResponse(good)).toEqual(page([whole, whole]));
    // A tombstone without stamps, a stamp that is no string: left alone, refused.
    for (const bad of [
      { ...compact, data: null, deleted: true },
      { ...compact, hlc: 5 },
    ]) {
      const body = overTheWire(page([bad]));
      expandCompactRecords(body.changes);
      expect(body.changes[0]).toEqual(overTheWire(bad));
      expect(fastPullResponse(body)).toBeUndefined();
      expect(v.safeParse(PullResponseSchema, body).success).toBe(false);
    }
    // A key too few: rebuilt, and refused all the same.
    const body = overTheWire(page([(({ seq: _seq, ...rest }) => rest)(compact)]));
    expandCompactRecords(body.changes);
    expect(fastPullResponse(body)).toBeUndefined();
    expect(v.safeParse(PullResponseSchema, body).success).toBe(false);
    // A key too many: dropped, as the schema drops it from a whole record.
    const extra = overTheWire(
      page([
        { ...compact, extra: 1 },
        { ...whole, extra: 1 },
      ]),
    );
    expandCompactRecords(extra.changes);
    expect(v.parse(PullResponseSchema, extra)).toEqual(page([whole, whole]));
    // Not an array, not objects: nothing happens, nothing throws.
    expect(() => expandCompactRecords({ length: 1 })).not.toThrow();
    const odd = [null, 3, 'x', [compact]];
    expandCompactRecords(odd);
    expect(odd).toEqual([null, 3, 'x', [compact]]);
  });
});

function recordFromParts(): ServerRecord {
  return {
    entityType: 'todos',
    entityId: 'todo-1',
    data: { title: 'Buy milk', completed: false },
    deleted: false,
    version: 1,
    vector: { 'device-a': 1 },
    hlc: HLC,
    fieldHlcs: { title: HLC, completed: HLC },
    seq: 1,
    clientId: 'device-a',
    changeId: `${HLC}.k3x9qa`,
  };
}
