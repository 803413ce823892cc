/**
 * Real parts for the React Native tests: a Ferry server on a temporary SQLite file on
 * 127.0.0.1, and devices, each the full engine from `createSyncSystem` on its own SQLite file.
 */
import { join } from 'node:path';
import { createSyncSystem, HttpRemoteAPI, type SyncState, type SyncSystem, type SyncSystemConfig } from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { createServer, defaultSchema, type FerryServer, signDevToken } from '@ferry/server';
import { tempDir } from './tempDir.ts';

const SECRET = 'react-native-tests-secret-long-enough-for-hs256';

/** A running server and a way to open devices against it. */
export interface TestServer {
  url: string;
  server: FerryServer;
  dir: string;
  token(user?: string): Promise<string>;
  /** Opens a device (a full sync system); manual syncing unless `config` says otherwise. */
  device(name: string, config?: Partial<SyncSystemConfig>): Promise<SyncSystem>;
  close(): Promise<void>;
}

export async function startServer(): Promise<TestServer> {
  const temp = tempDir('server');
  const server = await createServer({
    dbPath: join(temp.dir, 'server.db'),
    schema: defaultSchema,
    auth: { secret: SECRET },
  });
  const { url } = await server.listen({ port: 0, host: '127.0.0.1' });
  const systems: SyncSystem[] = [];
  const token = (user = 'alice') => signDevToken(SECRET, user, { expiresIn: '1h' });
  return {
    url,
    server,
    dir: temp.dir,
    token,
    async device(name, config = {}) {
      const bearer = await token();
      const system = await createSyncSystem({
        remoteAPI: new HttpRemoteAPI({ baseUrl: url, getToken: () => bearer, timeoutMs: 5000 }),
        driver: createBetterSqliteDriver(join(temp.dir, `${name}.db`)),
        clientId: name,
        autoStart: false,
        syncInterval: 0,
        writeDebounceMs: -1,
        ...config,
      });
      systems.push(system);
      return system;
    },
    async close() {
      for (const system of systems) if (!system.localStore.closed) await system.close();
      await server.close();
      temp.remove();
    },
  };
}

/** Resolves with the manager's state once `predicate` holds (checked now and on every change). */
export function stateWhere(system: SyncSystem, predicate: (state: SyncState) => boolean): Promise<SyncState> {
  return new Promise((resolve) => {
    const check = (state: SyncState) => {
      if (!predicate(state)) return false;
      unsubscribe();
      resolve(state);
      return true;
    };
    const unsubscribe = system.syncManager.subscribe((state) => void check(state));
    check(system.syncManager.getState());
  });
}
