/**
 * Compact push acknowledgements (`POST /v1/push?ack=compact`) against full ones, end to end: two
 * real servers on 127.0.0.1, two identical pairs of deterministic devices on real SQLite files.
 * One pair asks for compact answers (the client's default); the other talks to a server that
 * does not know them (the `ack` parameter never reaches it, as with a server that predates it)
 * and gets full records. Every outcome of a push is exercised (applied, a repeated entity in a
 * batch, duplicates, partial updates, deletes, a conflict and its resolution, a rejection), and
 * both pairs must end with byte-identical local databases.
 */

import { ChangeTracker, ConflictResolver, HttpRemoteAPI, LocalStore, SyncManager } from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { HybridLogicalClock } from '@ferry/protocol';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness.js';

const harnesses: Harness[] = [];
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  for (const harness of harnesses.splice(0)) await harness.close();
});

/** A deterministic random source (the change ids' suffixes). */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

interface World {
  a: { manager: SyncManager; tracker: ChangeTracker; path: string };
  b: { manager: SyncManager; tracker: ChangeTracker; path: string };
  compactAnswers: number;
}

/** A server and two devices on it; `legacy` drops the `ack` parameter before the server sees it. */
async function world(legacy: boolean, start: number): Promise<World> {
  const h = await startHarness();
  harnesses.push(h);
  const token = await h.token('alice');
  const state: World = { compactAnswers: 0 } as World;
  const fetchFn: typeof fetch = async (input, init) => {
    const url = String(input);
    const response = await fetch(legacy ? url.replace(/\?ack=compact$/, '') : url, init);
    if (url.includes('/v1/push') && response.ok) {
      const body = (await response.clone().json()) as { results: Array<Record<string, unknown>> };
      state.compactAnswers += body.results.filter((result) => 'version' in result).length;
    }
    return response;
  };
  const device = async (name: string, seed: number) => {
    const path = `${h.dir}/${name}.db`;
    const store = await LocalStore.open(createBetterSqliteDriver(path));
    // A clock that stands still behind the server's: stamps differ by their counter only, the
    // same in both worlds, and the server never re-stamps them.
    const tracker = new ChangeTracker(store, name, {
      clock: new HybridLogicalClock(name, { now: () => start }),
      random: seeded(seed),
    });
    const manager = new SyncManager({
      localStore: store,
      remoteAPI: new HttpRemoteAPI({ baseUrl: h.url, getToken: () => token, timeoutMs: 5000, fetch: fetchFn }),
      changeTracker: tracker,
      conflictResolver: new ConflictResolver('last-write-wins'),
      autoStart: false,
      syncInterval: 0,
      writeDebounceMs: -1,
      now: () => start,
    });
    closers.push(() => store.close());
    return { manager, tracker, path };
  };
  state.a = await device('device-a', 1);
  state.b = await device('device-b', 2);
  return state;
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

/** Every row of the device's own tables, in a fixed order. */
function dump(path: string) {
  const db = new Database(path, { readonly: true });
  try {
    const tables = ['ferry_entities', 'ferry_outbox', 'ferry_dead_letters', 'ferry_conflicts', 'ferry_kv'];
    return Object.fromEntries(tables.map((table) => [table, db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).all()]));
  } finally {
    db.close();
  }
}

describe('compact push acknowledgements', () => {
  it('leave a device in exactly the state full acknowledgements leave it in', async () => {
    const start = Date.now() - 60_000;
    const compact = await world(false, start);
    const full = await world(true, start);

    const compactRun = await script(compact);
    const fullRun = await script(full);

    expect(compactRun.results).toEqual(fullRun.results);
    expect(compactRun.states).toHaveLength(7);
    for (const [index, state] of compactRun.states.entries()) {
      expect(state, `state ${index}`).toEqual(fullRun.states[index]);
    }
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
