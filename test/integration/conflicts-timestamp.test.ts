/**
 * `TimestampBasedSync` (the seed's timestamp sync) on the hybrid logical clock: sorting
 * changes into upload / download / conflict, and a whole sync of one type over a real server.
 */
import { TimestampBasedSync, type TimestampedEntity } from '@ferry/client';
import { encodeHlc } from '@ferry/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BASE, type ConflictWorld, editAt, startWorld } from '../support/conflictDevices.js';
import { syncAll as settle } from '../support/harness.js';

const stamp = (wallTime: number, node: string, counter = 0) => encodeHlc({ wallTime, counter, node });
const entity = (id: string, hlc: string, updatedAt = 0): TimestampedEntity => ({
  id,
  data: { title: id },
  hlc,
  updatedAt,
  deletedAt: null,
});

let world: ConflictWorld;
beforeEach(async () => {
  world = await startWorld();
});
afterEach(async () => {
  await world.close();
});

describe('TimestampBasedSync.categorizeChanges', () => {
  it('uploads local-only, downloads server-only, and flags both-sided changes with different stamps', async () => {
    const device = await world.device('dev-a');
    const sync = new TimestampBasedSync(device.system.localStore, device.system.remoteAPI);
    const same = stamp(5, 'dev-b');
    const { toUpload, toDownload, conflicts } = sync.categorizeChanges(
      [entity('x', stamp(1, 'dev-a')), entity('y', stamp(2, 'dev-a')), entity('w', same)],
      [entity('y', stamp(3, 'dev-b')), entity('z', stamp(4, 'dev-b')), entity('w', same)],
    );
    expect(toUpload.map((e) => e.id)).toEqual(['x']);
    expect(toDownload.map((e) => e.id)).toEqual(['z']);
    expect(conflicts.map((c) => [c.local.id, c.server.hlc])).toEqual([['y', stamp(3, 'dev-b')]]);
  });

  it('settles by the hybrid clock, not by a skewed wall-clock updatedAt; ties by node id', async () => {
    const device = await world.device('dev-a');
    const sync = new TimestampBasedSync(device.system.localStore, device.system.remoteAPI);
    const skewedLocal = entity('y', stamp(10, 'dev-a'), 99_999_999);
    expect(sync.resolveByTimestamp({ local: skewedLocal, server: entity('y', stamp(20, 'dev-b'), 20) })).toBe('server');
    expect(
      sync.resolveByTimestamp({ local: entity('y', stamp(20, 'dev-c')), server: entity('y', stamp(20, 'dev-b')) }),
    ).toBe('local');
  });
});

describe('TimestampBasedSync.sync', () => {
  it('downloads, settles last-write-wins by HLC and uploads, and every replica agrees', async () => {
    const a = await world.device('dev-a');
    const b = await world.device('dev-b');
    await editAt(a, BASE, 't1', 'CREATE', { title: 'original', completed: false });
    await settle([a, b]);
    await editAt(a, BASE + 10, 't1', 'UPDATE', { title: 'earlier, from a' });
    await editAt(a, BASE + 11, 't3', 'CREATE', { title: 'only on a', completed: false });
    await editAt(b, BASE + 20, 't1', 'UPDATE', { title: 'later, from b' });
    await editAt(b, BASE + 21, 't2', 'CREATE', { title: 'only on b', completed: false });
    await a.system.forceSync();

    const sync = new TimestampBasedSync(b.system.localStore, b.system.remoteAPI, {
      changeTracker: b.system.changeTracker,
    });
    const result = await sync.sync('todos');
    // One cycle of b's engine: t2 and the resolution of t1 go up; the pull then applies every
    // record past b's cursor (t1 as resolved, t2 as acknowledged, and t3 from a).
    expect(result).toEqual({ uploaded: 2, downloaded: 3, conflictsResolved: 1 });
    await settle([a, b]);
    const expected = [
      { id: 't1', title: 'later, from b', completed: false },
      { id: 't2', title: 'only on b', completed: false },
      { id: 't3', title: 'only on a', completed: false },
    ];
    expect(await b.todos()).toEqual(expected);
    expect(await a.todos()).toEqual(expected);
  });
});
