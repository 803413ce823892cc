import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ClockDriftError,
  compareHlc,
  DEFAULT_MAX_DRIFT_MS,
  decodeHlc,
  encodeHlc,
  type Hlc,
  HybridLogicalClock,
  isHlc,
} from './hlc.js';

const HOUR = 60 * 60 * 1000;
const START = 1_732_550_000_000;
const MAX_COUNTER = 999_999;

const nodeArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/);

/** A physical clock the test moves by hand. */
function manualClock(start = START) {
  let now = start;
  return {
    now: () => now,
    set: (value: number) => {
      now = Math.max(0, value);
    },
  };
}

type Step =
  | { kind: 'tick'; deltaMs: number }
  | { kind: 'now' }
  | { kind: 'receive'; aheadMs: number; counter: number; node: string };

// The physical clock stalls, creeps, or jumps back or 48 h ahead; remote stamps come from
// behind, from the same millisecond, or from too far ahead.
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('tick' as const),
    deltaMs: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(-48 * HOUR, 48 * HOUR, -1000, 1000)),
  }),
  fc.record({ kind: fc.constant('now' as const) }),
  fc.record({
    kind: fc.constant('receive' as const),
    aheadMs: fc.oneof(
      fc.integer({ min: -2, max: 2 }),
      fc.constantFrom(-48 * HOUR, DEFAULT_MAX_DRIFT_MS, DEFAULT_MAX_DRIFT_MS + 1, 48 * HOUR),
    ),
    counter: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constant(MAX_COUNTER)),
    node: fc.constantFrom('device-a', 'device-b', 'server', 'z'),
  }),
);

function compareTuples(a: Hlc, b: Hlc): number {
  if (a.wallTime !== b.wallTime) return a.wallTime - b.wallTime;
  if (a.counter !== b.counter) return a.counter - b.counter;
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}

describe('HybridLogicalClock', () => {
  it.each(['receive', 'observe', 'admit'] as const)(
    'issues every stamp above all stamps issued or folded in with %s(), whatever the physical clock does',
    (fold) => {
      fc.assert(
        fc.property(fc.array(stepArb, { maxLength: 60 }), (steps) => {
          const physical = manualClock();
          const clock = new HybridLogicalClock('device-m', { now: physical.now });
          let highest = '';
          for (const step of steps) {
            if (step.kind === 'tick') {
              physical.set(physical.now() + step.deltaMs);
            } else if (step.kind === 'now') {
              const stamp = clock.now();
              expect(compareHlc(stamp, highest)).toBeGreaterThan(0);
              highest = stamp;
            } else {
              const remote = encodeHlc({
                wallTime: Math.max(0, physical.now() + step.aheadMs),
                counter: step.counter,
                node: step.node,
              });
              const before = clock.last;
              try {
                if (fold === 'receive') {
                  const stamp = clock.receive(remote);
                  expect(decodeHlc(remote).wallTime - physical.now()).toBeLessThanOrEqual(DEFAULT_MAX_DRIFT_MS);
                  expect(compareHlc(stamp, highest)).toBeGreaterThan(0);
                  expect(compareHlc(stamp, remote)).toBeGreaterThan(0);
                  highest = stamp;
                } else if (fold === 'admit') {
                  // admit() issues no stamp either, and judges drift exactly as receive() does.
                  clock.admit(remote);
                  expect(decodeHlc(remote).wallTime - physical.now()).toBeLessThanOrEqual(DEFAULT_MAX_DRIFT_MS);
                  if (compareHlc(remote, highest) > 0) highest = remote;
                } else {
                  // observe() issues no stamp: the next now() must still sort after the remote.
                  clock.observe(remote);
                  if (compareHlc(remote, highest) > 0) highest = remote;
                }
              } catch (error) {
                expect(error).toBeInstanceOf(ClockDriftError);
                expect(decodeHlc(remote).wallTime - physical.now()).toBeGreaterThan(DEFAULT_MAX_DRIFT_MS);
                expect(clock.last).toBe(before);
              }
            }
            expect(isHlc(clock.last)).toBe(true);
          }
          expect(compareHlc(clock.now(), highest)).toBeGreaterThan(0);
        }),
        { numRuns: 500 },
      );
    },
  );

  it('admit() refuses a stamp too far ahead even when it is not ahead of the last one (the clock went back)', () => {
    const physical = manualClock();
    const clock = new HybridLogicalClock('server', { now: physical.now });
    const ahead = encodeHlc({ wallTime: physical.now() + DEFAULT_MAX_DRIFT_MS, counter: 0, node: 'dev' });
    clock.admit(ahead);
    physical.set(physical.now() - HOUR);
    const before = clock.last;
    expect(() => clock.admit(ahead)).toThrow(ClockDriftError);
    expect(() => clock.receive(ahead)).toThrow(ClockDriftError);
    expect(() => clock.admit('0')).toThrow(/Invalid HLC "0"/);
    expect(clock.last).toBe(before);
  });

  it("observe() of a stamp with the last stamp's time part and a higher node id still orders after it", () => {
    const physical = manualClock();
    const clock = new HybridLogicalClock('a', { now: physical.now });
    const last = clock.now();
    const sameTime = `${last.slice(0, 22)}-zzzz`;
    clock.observe(sameTime);
    expect(compareHlc(clock.now(), sameTime)).toBeGreaterThan(0);
  });

  it('observe() rejects a malformed stamp and changes nothing', () => {
    const clock = new HybridLogicalClock('device-m', { now: () => START });
    const before = clock.now();
    expect(() => clock.observe('0')).toThrow(/Invalid HLC "0"/);
    expect(() => clock.observe(`${before}!`)).toThrow(/Invalid HLC/);
    expect(clock.last).toBe(before);
  });

  it('never reissues a stamp after a restart from its last one, even when the clock went back', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 30 }), fc.integer({ min: 0, max: 48 * HOUR }), (steps, backMs) => {
        const physical = manualClock();
        const clock = new HybridLogicalClock('device-m', { now: physical.now });
        for (const step of steps) {
          if (step.kind === 'tick') physical.set(physical.now() + step.deltaMs);
          else if (step.kind === 'now') clock.now();
        }
        const last = clock.now();
        physical.set(physical.now() - backMs);
        const restarted = new HybridLogicalClock('device-m', { now: physical.now, last });
        expect(compareHlc(restarted.now(), last)).toBeGreaterThan(0);
      }),
    );
  });

  it('adopts a remote stamp exactly at the drift bound and rejects one a millisecond beyond, changing nothing', () => {
    const physical = manualClock();
    const clock = new HybridLogicalClock('device-m', { now: physical.now, maxDriftMs: 1000 });
    const before = clock.now();
    const beyond = encodeHlc({ wallTime: START + 1001, counter: 0, node: 'liar' });
    expect(() => clock.receive(beyond)).toThrow(ClockDriftError);
    expect(() => clock.receive(beyond)).toThrow(/liar is 1001 ms ahead \(more than the 1000 ms allowed\)/);
    expect(clock.last).toBe(before);
    expect(decodeHlc(clock.now()).wallTime).toBe(START);

    const atBound = encodeHlc({ wallTime: START + 1000, counter: 5, node: 'fast' });
    expect(clock.receive(atBound)).toBe(encodeHlc({ wallTime: START + 1000, counter: 6, node: 'device-m' }));
  });

  it('borrows the next millisecond when the counter overflows', () => {
    const physical = manualClock();
    const full = encodeHlc({ wallTime: START, counter: MAX_COUNTER, node: 'device-m' });
    const restarted = new HybridLogicalClock('device-m', { now: physical.now, last: full });
    expect(restarted.now()).toBe(encodeHlc({ wallTime: START + 1, counter: 0, node: 'device-m' }));

    const clock = new HybridLogicalClock('device-m', { now: physical.now });
    const remote = encodeHlc({ wallTime: START, counter: MAX_COUNTER, node: 'other' });
    const adopted = clock.receive(remote);
    expect(adopted).toBe(encodeHlc({ wallTime: START + 1, counter: 0, node: 'device-m' }));
    expect(compareHlc(adopted, remote)).toBeGreaterThan(0);
  });

  it('takes its own node id over the one in a restored stamp', () => {
    const clock = new HybridLogicalClock('device-m', {
      now: () => 0,
      last: encodeHlc({ wallTime: 5, counter: 0, node: 'x' }),
    });
    expect(decodeHlc(clock.now())).toEqual({ wallTime: 5, counter: 1, node: 'device-m' });
  });

  it('rejects a malformed node id', () => {
    expect(() => new HybridLogicalClock('has space')).toThrow(/Invalid HLC node id/);
  });
});

describe('HLC encoding', () => {
  const hlcArb = fc.record({
    wallTime: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 10 ** 15 - 1 })),
    counter: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: MAX_COUNTER })),
    node: fc.oneof(fc.constantFrom('a', 'a-b', 'a_b', 'B', '0'), nodeArb),
  });

  it('sorts encoded strings exactly like (wallTime, counter, node)', () => {
    fc.assert(
      fc.property(hlcArb, hlcArb, (a, b) => {
        expect(Math.sign(compareHlc(encodeHlc(a), encodeHlc(b)))).toBe(Math.sign(compareTuples(a, b)));
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes what it encodes', () => {
    fc.assert(
      fc.property(hlcArb, (a) => {
        expect(isHlc(encodeHlc(a))).toBe(true);
        expect(decodeHlc(encodeHlc(a))).toEqual(a);
      }),
    );
  });

  it('rejects anything else with a clear error', () => {
    expect(() => decodeHlc('2024-01-01T00:00:00Z')).toThrow(/Invalid HLC "2024-01-01T00:00:00Z"/);
    expect(isHlc('000000000000001-000000-')).toBe(false);
    expect(isHlc('00000000000001-000000-a')).toBe(false);
  });
});
