/**
 * Helpers for the conflict scenarios: a server with per-type conflict strategies (the
 * shared harness starts one without), and edits stamped on a virtual clock, so which write
 * is "later" is decided by the test, not by how fast the machine runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChangeTracker,
  createSyncSystem,
  HttpRemoteAPI,
  LocalStore,
  type Operation,
  type RecordData,
  type SyncSystem,
  type SyncSystemConfig,
} from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { HybridLogicalClock } from '@ferry/protocol';
import { createServer, defaultSchema, type FerryServer, signDevToken } from '@ferry/server';

const SECRET = 'conflict-tests-secret-long-enough-for-hs256';

/** A device: a full sync system on its own SQLite file. */
export interface ConflictDevice {
  name: string;
  system: SyncSystem;
  /** Closes the app and opens it again from its database file. */
  restart(): Promise<ConflictDevice>;
  /** Every live todo, sorted by id. */
  todos(): Promise<Array<Record<string, unknown>>>;
}

/** A server on a temp SQLite file on 127.0.0.1 and the devices made against it. */
export interface ConflictWorld {
  server: FerryServer;
  url: string;
  token: string;
  device(name: string, config?: Partial<SyncSystemConfig>): Promise<ConflictDevice>;
  close(): Promise<void>;
}

/** Starts a server with `conflictStrategies` (none: every conflict is reported to devices). */
export async function startWorld(conflictStrategies?: Record<string, string>): Promise<ConflictWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-conflicts-'));
  const server = await createServer({
    dbPath: join(dir, 'server.db'),
    schema: defaultSchema,
    auth: { secret: SECRET },
    live: false,
    ...(conflictStrategies ? { conflictStrategies } : {}),
  });
  const { url } = await server.listen({ port: 0, host: '127.0.0.1' });
  const token = await signDevToken(SECRET, 'alice', { expiresIn: '1h' });
  const systems: SyncSystem[] = [];
  const open = async (name: string, config: Partial<SyncSystemConfig>): Promise<ConflictDevice> => {
    const localStore = await LocalStore.open(createBetterSqliteDriver(join(dir, `${name}.db`)));
    // The device's one tracker (the engine's ChangeTracker.of finds it), on the virtual clock.
    new ChangeTracker(localStore, name, { clock: new HybridLogicalClock(name, { now: () => virtualNow }) });
    const system = await createSyncSystem({
      remoteAPI: new HttpRemoteAPI({ baseUrl: url, getToken: () => token, timeoutMs: 5000 }),
      localStore,
      clientId: name,
      autoStart: false,
      syncInterval: 0,
      writeDebounceMs: -1,
      ...config,
    });
    systems.push(system);
    return {
      name,
      system,
      async restart() {
        await system.close();
        return open(name, config);
      },
      todos: () => system.localStore.find('todos'),
    };
  };
  return {
    server,
    url,
    token,
    device: (name, config = {}) => open(name, config),
    async close() {
      for (const system of systems) if (!system.localStore.closed) await system.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A base time a minute in the past: virtual edits at `BASE + n` are never "from the future". */
export const BASE = Date.now() - 60_000;

/** The devices' physical time: {@link editAt} sets it, so each write's stamp is the test's choice. */
let virtualNow = BASE;

/**
 * Records a write on `device` at virtual time `at` (ms), through the device's own tracker and
 * clock: the stamp is `at` unless the device's clock has already passed it (a stamp it issued
 * or pulled), as a hybrid logical clock does.
 */
export function editAt(
  device: ConflictDevice,
  at: number,
  entityId: string,
  operation: Operation,
  data: RecordData | null,
  entityType = 'todos',
) {
  virtualNow = at;
  return device.system.changeTracker.trackChange(entityType, entityId, operation, data);
}
