import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  dominates,
  incrementVector,
  mergeVersionVectors,
  type VersionComparison,
  type VersionVector,
} from './versionVector.js';

// Node names include valid client ids that are also Object.prototype members.
const nodeArb = fc.constantFrom('a', 'b', 'c', 'constructor', 'toString', 'valueOf');
const vectorArb: fc.Arbitrary<VersionVector> = fc.dictionary(nodeArb, fc.integer({ min: 0, max: 4 }), { maxKeys: 6 });

/** The definition, spelled out over the union of nodes (a missing node counts as 0). */
function reference(v1: VersionVector, v2: VersionVector): VersionComparison {
  const nodes = new Set([...Object.keys(v1), ...Object.keys(v2)]);
  const at = (v: VersionVector, node: string) => (Object.hasOwn(v, node) ? (v[node] as number) : 0);
  const v1Ahead = [...nodes].some((node) => at(v1, node) > at(v2, node));
  const v2Ahead = [...nodes].some((node) => at(v2, node) > at(v1, node));
  return v1Ahead ? (v2Ahead ? 'concurrent' : 'v1_newer') : v2Ahead ? 'v2_newer' : 'equal';
}

const nonZero = (v: VersionVector) =>
  Object.fromEntries(
    Object.entries(v)
      .filter(([, n]) => n !== 0)
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );

describe('version vectors', () => {
  it('compareVersions follows the definition', () => {
    fc.assert(
      fc.property(vectorArb, vectorArb, (v1, v2) => {
        expect(compareVersions(v1, v2)).toBe(reference(v1, v2));
      }),
      { numRuns: 2000 },
    );
  });

  it('compareVersions is antisymmetric', () => {
    const mirror: Record<VersionComparison, VersionComparison> = {
      equal: 'equal',
      v1_newer: 'v2_newer',
      v2_newer: 'v1_newer',
      concurrent: 'concurrent',
    };
    fc.assert(
      fc.property(vectorArb, vectorArb, (v1, v2) => {
        expect(compareVersions(v2, v1)).toBe(mirror[compareVersions(v1, v2)]);
      }),
    );
  });

  it('equal means the same non-zero entries', () => {
    fc.assert(
      fc.property(vectorArb, vectorArb, (v1, v2) => {
        expect(compareVersions(v1, v2) === 'equal').toBe(JSON.stringify(nonZero(v1)) === JSON.stringify(nonZero(v2)));
      }),
    );
    expect(compareVersions({ a: 1, b: 0 }, { a: 1 })).toBe('equal');
  });

  it('merge is commutative, associative and idempotent', () => {
    fc.assert(
      fc.property(vectorArb, vectorArb, vectorArb, (a, b, c) => {
        expect(mergeVersionVectors(a, b)).toEqual(mergeVersionVectors(b, a));
        expect(mergeVersionVectors(mergeVersionVectors(a, b), c)).toEqual(
          mergeVersionVectors(a, mergeVersionVectors(b, c)),
        );
        expect(mergeVersionVectors(a, a)).toEqual(a);
      }),
      { numRuns: 1000 },
    );
  });

  it('merge dominates both inputs and is the least vector that does', () => {
    fc.assert(
      fc.property(vectorArb, vectorArb, (a, b) => {
        const merged = mergeVersionVectors(a, b);
        expect(dominates(merged, a)).toBe(true);
        expect(dominates(merged, b)).toBe(true);
        for (const [node, n] of Object.entries(merged)) {
          expect(n).toBe(
            Math.max(
              Object.hasOwn(a, node) ? (a[node] as number) : 0,
              Object.hasOwn(b, node) ? (b[node] as number) : 0,
            ),
          );
        }
      }),
    );
  });

  it('incrementVector makes a strictly newer vector and leaves the input alone', () => {
    fc.assert(
      fc.property(vectorArb, nodeArb, (v, node) => {
        const before = { ...v };
        const next = incrementVector(v, node);
        expect(compareVersions(next, v)).toBe('v1_newer');
        expect(next[node]).toBe((Object.hasOwn(v, node) ? (v[node] as number) : 0) + 1);
        expect(v).toEqual(before);
      }),
    );
  });

  it('tells a concurrent edit from a stale copy', () => {
    expect(compareVersions({ a: 2, b: 1 }, { a: 1, b: 2 })).toBe('concurrent');
    expect(compareVersions({ a: 2, b: 2 }, { a: 1, b: 2 })).toBe('v1_newer');
    expect(compareVersions({}, { a: 1 })).toBe('v2_newer');
  });
});
