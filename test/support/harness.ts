/**
 * Real parts for end-to-end tests: a Ferry server on a temp SQLite file listening on
 * 127.0.0.1, and devices, each a full sync system on its own SQLite file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createSyncSystem,
  HttpRemoteAPI,
  type RemoteAPI,
  type SyncManager,
  type SyncSystem,
  type SyncSystemConfig,
  type TokenProvider,
} from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { createServer, defaultSchema, type FerryServer, type ServerStorage, signDevToken } from '@ferry/server';

export const SECRET = 'integration-secret-long-enough-for-hs256';

export interface Harness {
  dir: string;
  server: FerryServer;
  url: string;
  token(user: string): Promise<string>;
  device(name: string, options?: DeviceOptions): Promise<Device>;
  /** Stops the server and starts a new one on the same database file (and port). */
  restartServer(): Promise<void>;
  close(): Promise<void>;
}

export interface DeviceOptions {
  user?: string;
  /** Wraps the device's transport (fault injection). */
  wrapApi?: (api: RemoteAPI) => RemoteAPI;
  /** Where the device sends HTTP requests (a fault proxy); default the server. */
  baseUrl?: string;
  /** The device's token provider (HTTP and live); default a 1 h token for `user`. */
  getToken?: TokenProvider;
  config?: Partial<SyncSystemConfig>;
}

export interface Device {
  name: string;
  system: SyncSystem;
  dbPath: string;
  /** Closes the app and opens it again from its database file. */
  restart(): Promise<Device>;
  /** Every live todo, sorted by id, without sync metadata. */
  todos(): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

/**
 * Creates a fresh, empty server database and returns how to open a storage on it (again after a
 * restart). Unset, the harness uses a SQLite file in its temp dir.
 */
export type HarnessDatabase = () => Promise<() => Promise<ServerStorage>>;
let harnessDatabase: HarnessDatabase | undefined;

/** Runs every harness started afterwards in this test file on another storage (e.g. PostgreSQL); undefined for SQLite. */
export function useHarnessDatabase(database: HarnessDatabase | undefined): void {
  harnessDatabase = database;
}

export async function startHarness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-it-'));
  const dbPath = join(dir, 'server.db');
  const openStorage = await harnessDatabase?.();
  let storage = await openStorage?.();
  const start = () =>
    createServer({ ...(storage ? { storage } : { dbPath }), schema: defaultSchema, auth: { secret: SECRET } });
  let server = await start();
  const { url } = await server.listen({ port: 0, host: '127.0.0.1' });
  const port = Number(new URL(url).port);
  const devices: Device[] = [];
  const token = (user: string) => signDevToken(SECRET, user, { expiresIn: '1h' });

  const open = async (name: string, options: DeviceOptions, devicePath: string): Promise<Device> => {
    const user = options.user ?? 'alice';
    const bearer = await token(user);
    const getToken = options.getToken ?? (() => bearer);
    const http = new HttpRemoteAPI({ baseUrl: options.baseUrl ?? url, getToken, timeoutMs: 5000 });
    const system = await createSyncSystem({
      remoteAPI: options.wrapApi ? options.wrapApi(http) : http,
      getToken,
      driver: createBetterSqliteDriver(devicePath),
      clientId: name,
      autoStart: false,
      syncInterval: 0,
      writeDebounceMs: -1,
      ...options.config,
    });
    const device: Device = {
      name,
      system,
      dbPath: devicePath,
      async restart() {
        await device.close();
        return open(name, options, devicePath);
      },
      async todos() {
        return system.localStore.find('todos');
      },
      async close() {
        const index = devices.indexOf(device);
        if (index >= 0) devices.splice(index, 1);
        if (!system.localStore.closed) await system.close();
      },
    };
    devices.push(device);
    return device;
  };

  const harness: Harness = {
    dir,
    server,
    url,
    token,
    device: (name, options = {}) => open(name, options, join(dir, `${name}.db`)),
    async restartServer() {
      await server.close();
      await storage?.close();
      storage = await openStorage?.();
      server = await start();
      await server.listen({ port, host: '127.0.0.1' });
      harness.server = server;
    },
    async close() {
      for (const device of [...devices]) await device.close();
      await server.close();
      await storage?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

/**
 * Syncs every device round-robin until two full rounds in a row change nothing (bounded). One
 * quiet round is not enough: a device's sync started in the background (a conflict decision
 * triggers one) may have moved changes before the round's own sync ran; by the end of the
 * first quiet round every such sync has ended, so a second quiet round proves the devices
 * have settled.
 */
export async function syncAll(devices: readonly { system: SyncSystem }[], maxRounds = 12): Promise<void> {
  let quiet = 0;
  for (let round = 0; round < maxRounds; round++) {
    let moved = 0;
    for (const device of devices) {
      const result = await device.system.forceSync();
      moved += result.push.totalChanges + result.pull.totalChanges;
    }
    quiet = moved === 0 ? quiet + 1 : 0;
    if (quiet === 2) return;
  }
  throw new Error(`Devices did not settle within ${maxRounds} rounds`);
}

/** A RemoteAPI that behaves like `api` except for the given methods (fault injection). */
export function withOverrides(api: RemoteAPI, overrides: Partial<RemoteAPI>): RemoteAPI {
  const wrapped = {} as Record<string, unknown>;
  for (const method of [
    'push',
    'pull',
    'getConfig',
    'batchSync',
    'getChangesSince',
    'getAll',
    'create',
    'update',
    'delete',
  ] as const) {
    wrapped[method] = overrides[method] ?? api[method].bind(api);
  }
  return wrapped as unknown as RemoteAPI;
}

/** Resolves when the next sync starts and ends (bounded). */
export function nextSync(manager: SyncManager): Promise<void> {
  return new Promise((resolve, reject) => {
    let started = false;
    const timeout = setTimeout(() => reject(new Error('No sync finished within 5 s')), 5000);
    const off = manager.subscribe((state) => {
      if (state.syncInProgress) started = true;
      else if (started) {
        off();
        clearTimeout(timeout);
        resolve();
      }
    });
  });
}
