/**
 * Devices whose every stamp and change id is decided by the test (a clock that stands still, a
 * seeded random source), for scenarios run twice in two worlds that must end byte for byte
 * alike (compact push acknowledgements, compact pulled records).
 */
import { ChangeTracker, ConflictResolver, HttpRemoteAPI, LocalStore, SyncManager } from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { HybridLogicalClock } from '@ferry/protocol';
import Database from 'better-sqlite3';
import { afterEach, expect } from 'vitest';
import { type Harness, startHarness } from './harness.js';

/** A deterministic random source (the change ids' suffixes). */
export function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** A device of such a world: its manager, tracker and database file. */
export interface DeterministicDevice {
  manager: SyncManager;
  tracker: ChangeTracker;
  path: string;
  close(): Promise<void>;
}

/** Where and how a deterministic device talks to its server. */
export interface DeterministicDeviceOptions {
  dir: string;
  url: string;
  token: string;
  /** The wall time every stamp is taken at. */
  start: number;
  seed: number;
  /** The device's fetch (tests count or rewrite requests with it). */
  fetch: typeof fetch;
  /** Records per pull page (the engine's default when unset). */
  pageSize?: number;
}

/**
 * A device on its own SQLite file under `dir`, resolving conflicts last-write-wins. Its clock
 * stands still behind the server's: stamps differ by their counter only, the same in every
 * world, and the server never re-stamps them.
 */
export async function deterministicDevice(
  name: string,
  options: DeterministicDeviceOptions,
): Promise<DeterministicDevice> {
  const path = `${options.dir}/${name}.db`;
  const store = await LocalStore.open(createBetterSqliteDriver(path));
  const tracker = new ChangeTracker(store, name, {
    clock: new HybridLogicalClock(name, { now: () => options.start }),
    random: seeded(options.seed),
  });
  const manager = new SyncManager({
    localStore: store,
    remoteAPI: new HttpRemoteAPI({
      baseUrl: options.url,
      getToken: () => options.token,
      timeoutMs: 5000,
      fetch: options.fetch,
    }),
    changeTracker: tracker,
    conflictResolver: new ConflictResolver('last-write-wins'),
    autoStart: false,
    syncInterval: 0,
    writeDebounceMs: -1,
    now: () => options.start,
    ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
  });
  return { manager, tracker, path, close: () => store.close() };
}

/** Every row of the device's own tables, in a fixed order. */
export function dumpDevice(path: string) {
  const db = new Database(path, { readonly: true });
  try {
    const tables = ['ferry_entities', 'ferry_outbox', 'ferry_dead_letters', 'ferry_conflicts', 'ferry_kv'];
    return Object.fromEntries(tables.map((table) => [table, db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).all()]));
  } finally {
    db.close();
  }
}

/** Two worlds' runs of one script: the same results, and the same device state after every step. */
export function expectIdenticalRuns(
  run: { results: unknown[]; states: unknown[] },
  reference: { results: unknown[]; states: unknown[] },
  steps: number,
): void {
  expect(run.results).toEqual(reference.results);
  expect(run.states).toHaveLength(steps);
  for (const [index, state] of run.states.entries()) {
    expect(state, `state ${index}`).toEqual(reference.states[index]);
  }
}

/**
 * A factory of worlds (a server on 127.0.0.1 and deterministic devices on it), each closed after
 * its test. `openWorld` starts a server and opens the named devices (name → random seed), all
 * talking through `fetch`.
 */
export function deterministicWorlds() {
  const harnesses: Harness[] = [];
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    for (const harness of harnesses.splice(0)) await harness.close();
  });
  return async function openWorld<Name extends string>(options: {
    start: number;
    fetch: typeof fetch;
    devices: Record<Name, number>;
    pageSize?: number;
  }): Promise<Record<Name, DeterministicDevice>> {
    const h = await startHarness();
    harnesses.push(h);
    const token = await h.token('alice');
    const devices = {} as Record<Name, DeterministicDevice>;
    for (const [name, seed] of Object.entries(options.devices) as Array<[Name, number]>) {
      const { start, fetch, pageSize } = options;
      const device = await deterministicDevice(name, {
        dir: h.dir,
        url: h.url,
        token,
        start,
        seed,
        fetch,
        ...(pageSize === undefined ? {} : { pageSize }),
      });
      closers.push(device.close);
      devices[name] = device;
    }
    return devices;
  };
}
