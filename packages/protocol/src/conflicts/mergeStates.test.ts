import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareHlc, decodeHlc, encodeHlc } from '../hlc.js';
import type { JsonValue } from '../json.js';
import { canonicalJson, jsonEqual } from './canonicalJson.js';
import { type MergedState, mergeStates } from './mergeStates.js';
import type { VersionedState } from './versionedState.js';
import { fieldClock } from './writeClock.js';

const h = (wallTime: number, node: string, counter = 0) => encodeHlc({ wallTime, counter, node });

const fieldArb = fc.constantFrom('title', 'done', 'n', 'tags', 'note');
const valueArb = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom('a', 'b', ''),
  fc.boolean(),
  fc.constant(null),
  fc.dictionary(fc.constantFrom('x', 'y'), fc.integer({ min: 0, max: 2 }), { maxKeys: 2 }),
);
const hlcArb = fc
  .record({
    wallTime: fc.integer({ min: 0, max: 5 }),
    counter: fc.integer({ min: 0, max: 1 }),
    node: fc.constantFrom('a', 'b', 'c'),
  })
  .map(encodeHlc);

/** A live replica, stamped as every state on the wire is. */
const liveArb: fc.Arbitrary<VersionedState> = fc
  .record({
    data: fc.dictionary(fieldArb, valueArb, { maxKeys: 5 }),
    hlc: hlcArb,
    fieldHlcs: fc.dictionary(fieldArb, hlcArb, { maxKeys: 5 }),
  })
  .map(({ data, hlc, fieldHlcs }) => ({ data, hlc, fieldHlcs, timestamp: decodeHlc(hlc).wallTime }));

/** A merge result as the next side of a merge. */
function asState(merged: MergedState): VersionedState {
  const state: VersionedState = { data: merged.data, deleted: merged.deleted, timestamp: 0 };
  if (merged.hlc !== undefined) {
    state.hlc = merged.hlc;
    state.timestamp = decodeHlc(merged.hlc).wallTime;
  }
  if (merged.fieldHlcs) state.fieldHlcs = merged.fieldHlcs;
  return state;
}

const outcome = (m: MergedState) => ({ data: m.data, deleted: m.deleted, fieldHlcs: m.fieldHlcs, hlc: m.hlc });

describe('mergeStates', () => {
  it('takes each field from the side that wrote it last and keeps fields only one side has', () => {
    const a: VersionedState = {
      data: { title: 'A', done: true },
      hlc: h(30, 'a'),
      fieldHlcs: { title: h(30, 'a'), done: h(10, 'a') },
      timestamp: 30,
    };
    const b: VersionedState = { data: { done: false, note: 'B' }, hlc: h(20, 'b'), timestamp: 20 };
    expect(mergeStates(a, b)).toEqual({
      data: { title: 'A', done: false, note: 'B' },
      deleted: false,
      fieldHlcs: { title: h(30, 'a'), done: h(20, 'b'), note: h(20, 'b') },
      hlc: h(30, 'a'),
      source: 'merged',
    });
  });

  it('lets a delete win only over a state whose every field is older', () => {
    const live: VersionedState = { data: { n: 1 }, hlc: h(10, 'a'), fieldHlcs: { n: h(40, 'a') }, timestamp: 10 };
    const gone: VersionedState = { data: null, deleted: true, hlc: h(30, 'b'), timestamp: 30 };
    expect(mergeStates(live, gone)).toMatchObject({ data: { n: 1 }, deleted: false, source: 'a', hlc: h(40, 'a') });
    const later = { ...gone, hlc: h(50, 'b') };
    expect(mergeStates(live, later)).toEqual({ data: null, deleted: true, hlc: h(50, 'b'), source: 'b' });
  });

  it('reads no field clock from Object.prototype', () => {
    const a: VersionedState = { data: { constructor: 1 } as never, hlc: h(10, 'a'), fieldHlcs: {}, timestamp: 10 };
    const b: VersionedState = { data: { constructor: 2 } as never, hlc: h(20, 'b'), timestamp: 20 };
    expect(fieldClock(a, 'constructor').hlc).toBe(h(10, 'a'));
    expect(mergeStates(a, b).data).toEqual({ constructor: 2 });
  });

  it('is commutative', () => {
    fc.assert(
      fc.property(liveArb, liveArb, (a, b) => {
        expect(outcome(mergeStates(a, b))).toEqual(outcome(mergeStates(b, a)));
      }),
      { numRuns: 1000 },
    );
  });

  it('is associative: three replicas folded in any order agree', () => {
    fc.assert(
      fc.property(liveArb, liveArb, liveArb, (a, b, c) => {
        const ab_c = mergeStates(asState(mergeStates(a, b)), c);
        const a_bc = mergeStates(a, asState(mergeStates(b, c)));
        const ac_b = mergeStates(asState(mergeStates(a, c)), b);
        expect(outcome(a_bc)).toEqual(outcome(ab_c));
        expect(outcome(ac_b)).toEqual(outcome(ab_c));
      }),
      { numRuns: 1000 },
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(liveArb, (a) => {
        const once = mergeStates(a, a);
        expect(once.data).toEqual(a.data);
        expect(outcome(mergeStates(asState(once), a))).toEqual(outcome(once));
      }),
    );
  });

  it('never loses a field edit that no later edit of that field overwrote', () => {
    fc.assert(
      fc.property(liveArb, liveArb, (a, b) => {
        const merged = mergeStates(a, b);
        for (const [field, value] of Object.entries(a.data ?? {})) {
          const overwritten =
            b.data !== null &&
            Object.hasOwn(b.data, field) &&
            compareHlc(fieldClock(b, field).hlc as string, fieldClock(a, field).hlc as string) >= 0;
          if (!overwritten) expect(merged.data?.[field]).toEqual(value);
          expect(merged.data && Object.hasOwn(merged.data, field)).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('jsonEqual', () => {
  it('agrees with canonicalJson: equal whatever the key order, unequal on any value', () => {
    const cases: Array<[unknown, unknown]> = [
      [
        { a: 1, b: [1, { c: null }] },
        { b: [1, { c: null }], a: 1 },
      ],
      [{ a: 1 }, { a: 1, b: undefined }],
      [
        [1, 2],
        [2, 1],
      ],
      [{ a: [] }, { a: {} }],
      [null, {}],
      ['1', 1],
    ];
    for (const [a, b] of cases) {
      expect(jsonEqual(a, b)).toBe(canonicalJson(a as JsonValue) === canonicalJson(b as JsonValue));
    }
    expect(jsonEqual(cases[0]![0], cases[0]![1])).toBe(true);
  });
});
