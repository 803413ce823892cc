/**
 * A real server and real engines whose every request and response is released by a
 * fast-check scheduler, so a race test explores the interleavings of in-flight work.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChangeTracker,
  Collection,
  ConflictResolver,
  HttpRemoteAPI,
  LocalStore,
  type RemoteAPI,
  SyncManager,
} from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { createServer, defaultSchema, type FerryServer, signDevToken } from '@ferry/server';
import type fc from 'fast-check';

const SECRET = 'race-secret-that-is-long-enough-for-hs256';

/** One app on its own SQLite file. */
export interface RaceDevice {
  store: LocalStore;
  manager: SyncManager;
  todos: Collection;
}

/** The server, a way to make devices, and cleanup. */
export interface RaceWorld {
  server: FerryServer;
  device(name: string): Promise<RaceDevice>;
  close(): Promise<void>;
}

/** Runs `promise` to completion, releasing the scheduler's tasks one at a time meanwhile. */
export async function release<T>(s: fc.Scheduler, promise: Promise<T>): Promise<T> {
  let done = false;
  const tracked = promise.finally(() => {
    done = true;
  });
  for (let step = 0; step < 10_000 && !done; step++) {
    if (s.count() > 0) await s.waitOne();
    else await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return tracked;
}

/** Builds a world whose network goes through `s`. */
export async function raceWorld(s: fc.Scheduler): Promise<RaceWorld> {
  // tmpfs when there is one: these tests are about ordering, not about fsync.
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'ferry-race-'));
  const server = await createServer({
    dbPath: join(dir, 'server.db'),
    schema: defaultSchema,
    auth: { secret: SECRET },
  });
  const token = await signDevToken(SECRET, 'alice', { expiresIn: '1h' });
  const fetchFn: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const response = await server.app.inject({
      method: (init?.method ?? 'GET') as 'GET',
      url: url.pathname + url.search,
      headers: init?.headers as Record<string, string>,
      ...(typeof init?.body === 'string' ? { payload: init.body } : {}),
    });
    const empty = response.statusCode === 204;
    return new Response(empty ? null : response.body, {
      status: response.statusCode,
      headers: { 'content-type': String(response.headers['content-type'] ?? 'application/json') },
    });
  };
  const stores: LocalStore[] = [];
  return {
    server,
    async device(name) {
      const store = await LocalStore.open(createBetterSqliteDriver(join(dir, `${name}.db`)));
      stores.push(store);
      const http = new HttpRemoteAPI({ baseUrl: 'http://race.local', getToken: () => token, fetch: fetchFn });
      // The request leaves when the scheduler says, and its answer comes back when it says again.
      const api: RemoteAPI = Object.create(http);
      api.push = (request, options) =>
        s
          .schedule(Promise.resolve(), `${name} push sent`)
          .then(() => s.schedule(http.push(request, options), `${name} push answered`));
      api.pull = (params, options) =>
        s
          .schedule(Promise.resolve(), `${name} pull sent`)
          .then(() => s.schedule(http.pull(params, options), `${name} pull answered`));
      const tracker = new ChangeTracker(store, name);
      const manager = new SyncManager({
        localStore: store,
        remoteAPI: api,
        changeTracker: tracker,
        conflictResolver: new ConflictResolver('last-write-wins'),
        autoStart: false,
        syncInterval: 0,
        writeDebounceMs: -1,
      });
      await manager.ready();
      return { store, manager, todos: new Collection('todos', tracker) };
    },
    async close() {
      for (const store of stores) await store.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
