/**
 * Version vectors: one counter per node that edited an entity. They tell a stale copy
 * (one side has seen everything the other has) from a true concurrent edit.
 */
export type VersionVector = Record<string, number>;

/** Result of {@link compareVersions}. */
export type VersionComparison = 'equal' | 'v1_newer' | 'v2_newer' | 'concurrent';

/**
 * Compares two vectors. `v1_newer` means v1 has seen every event v2 has, and more.
 *
 * @example
 * compareVersions({ a: 2, b: 1 }, { a: 1, b: 2 }); // 'concurrent'
 */
export function compareVersions(v1: VersionVector, v2: VersionVector): VersionComparison {
  let v1Greater = false;
  let v2Greater = false;
  for (const node of Object.keys(v1)) {
    const a = v1[node] ?? 0;
    const b = Object.hasOwn(v2, node) ? (v2[node] ?? 0) : 0;
    if (a > b) v1Greater = true;
    else if (b > a) v2Greater = true;
  }
  for (const node of Object.keys(v2)) {
    if (Object.hasOwn(v1, node)) continue;
    if ((v2[node] ?? 0) > 0) v2Greater = true;
  }
  if (v1Greater && v2Greater) return 'concurrent';
  if (v1Greater) return 'v1_newer';
  if (v2Greater) return 'v2_newer';
  return 'equal';
}

/** True when `v1` has seen everything `v2` has (equal or newer). */
export function dominates(v1: VersionVector, v2: VersionVector): boolean {
  const result = compareVersions(v1, v2);
  return result === 'equal' || result === 'v1_newer';
}

/** The least vector that dominates both: the element-wise maximum. */
export function mergeVersionVectors(v1: VersionVector, v2: VersionVector): VersionVector {
  const merged: VersionVector = { ...v1 };
  for (const [node, version] of Object.entries(v2)) {
    merged[node] = Math.max(countOf(merged, node), version);
  }
  return merged;
}

/** A copy of `vector` with `node`'s counter advanced by one. */
export function incrementVector(vector: VersionVector, node: string): VersionVector {
  return { ...vector, [node]: countOf(vector, node) + 1 };
}

// hasOwn: client ids such as "constructor" or "toString" are valid and must not read Object.prototype.
function countOf(vector: VersionVector, node: string): number {
  return Object.hasOwn(vector, node) ? (vector[node] ?? 0) : 0;
}
