import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRecordOfChange, recordFromChange } from './compactAck.js';
import { encodeHlc } from './hlc.js';
import type { Change, ServerRecord } from './schemas.js';

const HLC = encodeHlc({ wallTime: 1_795_643_600_000, counter: 0, node: 'device-a' });
const EARLIER = encodeHlc({ wallTime: 1_795_643_500_000, counter: 0, node: 'device-b' });

const changeArb: fc.Arbitrary<Change> = fc
  .record({
    operation: fc.constantFrom('CREATE', 'UPDATE', 'DELETE'),
    data: fc.dictionary(fc.constantFrom('a', 'b', 'c', '__proto__', 'order'), fc.jsonValue(), { maxKeys: 4 }),
    fieldHlcs: fc.option(fc.dictionary(fc.constantFrom('a', 'b', '__proto__', 'z'), fc.constant(EARLIER)), {
      nil: undefined,
    }),
  })
  .map(({ operation, data, fieldHlcs }) => {
    const change: Change = {
      id: `${HLC}.abc123`,
      entityType: 'todos',
      entityId: 't1',
      operation,
      // Own '__proto__' keys, as JSON.parse makes them.
      data: operation === 'DELETE' ? null : JSON.parse(JSON.stringify(data)),
      timestamp: 1_795_643_600_000,
      hlc: HLC,
      version: 1,
      vector: { 'device-a': 1 },
      clientId: 'device-a',
    };
    if (fieldHlcs) change.fieldHlcs = JSON.parse(JSON.stringify(fieldHlcs));
    return change;
  });

describe('recordFromChange and isRecordOfChange', () => {
  it('agree: the record rebuilt from a change is that change’s own, field stamps in data order', () => {
    fc.assert(
      fc.property(changeArb, fc.nat(), fc.nat(), (change, version, seq) => {
        const record = recordFromChange(change, version, seq);
        expect(isRecordOfChange(record, change)).toBe(true);
        expect(Object.keys(record.fieldHlcs)).toEqual(change.data === null ? [] : Object.keys(change.data));
        for (const [field, stamp] of Object.entries(record.fieldHlcs)) {
          expect(stamp).toBe(change.fieldHlcs && Object.hasOwn(change.fieldHlcs, field) ? EARLIER : HLC);
        }
      }),
    );
  });

  it('keeps a field named __proto__ as a field stamp, not a prototype', () => {
    const change = recordFromChange(
      {
        id: `${HLC}.abc123`,
        entityType: 'todos',
        entityId: 't1',
        operation: 'CREATE',
        data: JSON.parse('{"__proto__": 1, "a": 2}'),
        timestamp: 1,
        hlc: HLC,
        version: 1,
        vector: {},
        clientId: 'device-a',
      },
      1,
      1,
    );
    expect(Object.getPrototypeOf(change.fieldHlcs)).toBe(Object.prototype);
    expect(JSON.stringify(change.fieldHlcs)).toBe(`{"__proto__":"${HLC}","a":"${HLC}"}`);
  });

  it('tells a record that differs in anything from the change’s own', () => {
    const nested = { n: 1 };
    const change: Change = {
      id: `${HLC}.abc123`,
      entityType: 'todos',
      entityId: 't1',
      operation: 'CREATE',
      data: { a: 1, b: nested },
      timestamp: 1,
      hlc: HLC,
      version: 1,
      vector: { 'device-a': 1 },
      clientId: 'device-a',
    };
    const own = recordFromChange(change, 2, 3);
    const variants: ServerRecord[] = [
      { ...own, hlc: EARLIER },
      { ...own, deleted: true },
      { ...own, data: { b: nested, a: 1 } },
      { ...own, data: { a: 1, b: { n: 1 } } },
      { ...own, vector: { 'device-a': 1, server: 1 } },
      { ...own, fieldHlcs: { a: HLC } },
      { ...own, fieldHlcs: { b: HLC, a: HLC } },
      { ...own, changeId: 'other' },
      { ...own, clientId: 'device-b' },
      { ...own, entityId: 't2' },
    ];
    for (const record of variants) expect(isRecordOfChange(record, change)).toBe(false);
  });
});
