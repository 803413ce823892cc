/**
 * Compact push acknowledgements (`POST /v1/push?ack=compact`) against full ones, end to end: two
 * real servers on 127.0.0.1, two identical pairs of deterministic devices on real SQLite files.
 * One pair asks for compact answers (the client's default); the other talks to a server that
 * does not know them (the `ack` parameter never reaches it, as with a server that predates it)
 * and gets full records. Every outcome of a push is exercised (applied, a repeated entity in a
 * batch, duplicates, partial updates, deletes, a conflict and its resolution, a rejection), and
 * both pairs must end with byte-identical local databases.
 */

import { describe, expect, it } from 'vitest';
import {
  type DeterministicDevice,
  deterministicWorlds,
  dumpDevice as dump,
  expectIdenticalRuns,
} from '../support/deterministicDevices.js';

const openWorld = deterministicWorlds();

interface World {
  a: DeterministicDevice;
  b: DeterministicDevice;
  compactAnswers: number;
}

/** A server and two devices on it; `legacy` drops the `ack` parameter before the server sees it. */
async function world(legacy: boolean, start: number): Promise<World> {
  let compactAnswers = 0;
  const fetchFn: typeof fetch = async (input, init) => {
    const url = String(input);
    const response = await fetch(legacy ? url.replace(/\?ack=compact$/, '') : url, init);
    if (url.includes('/v1/push') && response.ok) {
      const body = (await response.clone().json()) as { results: Array<Record<string, unknown>> };
      compactAnswers += body.results.filter((result) => 'version' in result).length;
    }
    return response;
  };
  const devices = await openWorld({ start, fetch: fetchFn, devices: { 'device-a': 1, 'device-b': 2 } });
  return {
    a: devices['device-a'],
    b: devices['device-b'],
    get compactAnswers() {
      return compactAnswers;
    },
  };
}

/** The same script in a world: every push outcome at least once. */
async function script(w: World) {
  const { a, b } = w;
  const results = [];
  // The device's state after each push: a later pull would overwrite what a push settled.
  const states = [];
  const track = (device: World['a'], id: string, operation: 'CREATE' | 'UPDATE' | 'DELETE', data: object | null) =>
    device.tracker.trackChange('todos', id, operation, data as never);
  for (let i = 1; i <= 6; i++) await track(a, `t${i}`, 'CREATE', { title: `todo ${i}`, completed: false });
  results.push(await a.manager.pushChanges());
  states.push(dump(a.path));
  // The same entity twice in one batch, full-state updates (answered compactly), a partial one,
  // a delete, and a change the server refuses.
  await track(a, 't5', 'UPDATE', { title: 'five', completed: true });
  await track(a, 't5', 'UPDATE', { title: 'five again', completed: false });
  await track(a, 't1', 'UPDATE', { title: 'one' });
  await track(a, 't2', 'DELETE', null);
  await track(a, 'bad', 'CREATE', { title: 5 });
  results.push(await a.manager.pushChanges());
  states.push(dump(a.path));
  // A true conflict: B and A edit t3 concurrently; A's push hears the conflict and resolves it.
  await b.manager.pullChanges();
  await track(b, 't3', 'UPDATE', { title: 'b3', completed: true });
  results.push(await b.manager.pushChanges());
  states.push(dump(b.path));
  await track(a, 't3', 'UPDATE', { title: 'a3', completed: false });
  await track(a, 't4', 'UPDATE', { title: 'four', completed: true });
  results.push(await a.manager.pushChanges());
  states.push(dump(a.path));
  results.push(await a.manager.pushChanges());
  states.push(dump(a.path));
  await a.manager.pullChanges();
  await b.manager.pullChanges();
  states.push(dump(a.path), dump(b.path));
  return { results, states };
}

describe('compact push acknowledgements', () => {
  it('leave a device in exactly the state full acknowledgements leave it in', async () => {
    const start = Date.now() - 60_000;
    const compact = await world(false, start);
    const full = await world(true, start);

    const compactRun = await script(compact);
    const fullRun = await script(full);

    expectIdenticalRuns(compactRun, fullRun, 7);
    // Not vacuous: the compact world was answered compactly (the 6 creates, the 2 updates of t5,
    // B's and A's full-state updates), the other never.
    expect(compact.compactAnswers).toBeGreaterThanOrEqual(9);
    expect(full.compactAnswers).toBe(0);
    // And the script did reach every outcome.
    const statuses = new Set(compactRun.results.flatMap((result) => result.results.map((entry) => entry.status)));
    expect([...statuses].sort()).toEqual(['applied', 'conflict', 'rejected']);
    const entities = compactRun.states[1]?.ferry_entities as Array<Record<string, unknown>>;
    expect(entities.find((row) => row.entity_id === 't5')).toMatchObject({ server_version: 3 });
  });
});
