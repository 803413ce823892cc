import { incrementVector, type VersionVector } from '@ferry/protocol';
import type { StoreTx } from '../store/StoreTx.js';

/**
 * A device never issues the same vector counter twice for one entity.
 *
 * A write advances the device's own component of the entity's vector. When the device adopts
 * a server record that lacks some of its own history (a concurrent record won, or history
 * compaction made the server forget a tombstone's vector), the entity's vector falls back
 * below counters the device already issued — counters other devices may still remember. A
 * write counting on from there would reuse one: a change that looks older than copies
 * elsewhere, so it is ignored or answered "conflict" for good.
 *
 * So every adoption that lowers the own component records the dropped counter as a floor
 * (one kv row per device, raised only, in the adopting transaction), and every write counts
 * on from the higher of the entity's own counter and the floor. Devices that never adopt
 * such a record keep the plain per-entity counters {a: 1}, {a: 2}, ...
 */
const FLOOR_KEY = 'ferry:vector-floor';

// hasOwn: client ids such as "constructor" are valid and must not read Object.prototype.
function counterOf(vector: VersionVector, clientId: string): number {
  return Object.hasOwn(vector, clientId) ? (vector[clientId] ?? 0) : 0;
}

async function floorOf(tx: StoreTx): Promise<number> {
  return Number((await tx.getKv(FLOOR_KEY)) ?? 0);
}

/** `vector` advanced by one write of `clientId`, above every counter it ever issued. */
export async function nextVector(tx: StoreTx, vector: VersionVector, clientId: string): Promise<VersionVector> {
  const floor = await floorOf(tx);
  return counterOf(vector, clientId) >= floor
    ? incrementVector(vector, clientId)
    : { ...vector, [clientId]: floor + 1 };
}

/** Records the own counter lost when the entity's vector `from` is replaced by `to`. */
export async function keepDroppedCounter(
  tx: StoreTx,
  from: VersionVector,
  to: VersionVector,
  clientId: string,
): Promise<void> {
  const dropped = counterOf(from, clientId);
  if (dropped > counterOf(to, clientId) && dropped > (await floorOf(tx))) await tx.setKv(FLOOR_KEY, String(dropped));
}

/**
 * Records the own counters of entities about to be removed from the device (a space purged or
 * reset, a refused write forgotten): should the device write the same ids again (a member
 * granted the space again), its writes count on above every counter it already issued.
 */
export async function keepCountersOf(tx: StoreTx, vectors: readonly VersionVector[], clientId: string): Promise<void> {
  const highest = Math.max(0, ...vectors.map((vector) => counterOf(vector, clientId)));
  if (highest > (await floorOf(tx))) await tx.setKv(FLOOR_KEY, String(highest));
}
