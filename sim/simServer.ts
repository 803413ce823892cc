import { createServer, defaultSchema, type FerryServer, SqliteStorage, signDevToken } from '@ferry/server';
import type { VirtualClock } from './virtualClock.js';

/** Secret the simulated server verifies tokens with. */
export const SIM_SECRET = 'ferry-simulator-secret-long-enough-for-hs256';

/** A request as the virtual network carries it. */
export interface SimRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** A response as the virtual network carries it. */
export interface SimResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * The REAL Ferry server (Fastify app, push/pull logic, SQLite storage on a file), driven
 * in-process through `app.inject()`. A restart closes the storage and opens the file again,
 * so only what was committed survives.
 */
export class SimServer {
  readonly dbPath: string;
  readonly #clock: VirtualClock;
  #server: FerryServer;
  #storage: SqliteStorage;
  restarts = 0;
  /** Hears every commit (scope, seq), across restarts: the live fan-out hangs off it. */
  onCommit: (scope: string, seq: number) => void = () => undefined;

  private constructor(dbPath: string, clock: VirtualClock, server: FerryServer, storage: SqliteStorage) {
    this.dbPath = dbPath;
    this.#clock = clock;
    this.#server = server;
    this.#storage = storage;
    this.#listen();
  }

  #listen(): void {
    this.#storage.onCommit((scope, seq) => this.onCommit(scope, seq));
  }

  /** Opens storage on `dbPath` and builds the server on the virtual clock. */
  static async start(dbPath: string, clock: VirtualClock): Promise<SimServer> {
    const { server, storage } = await SimServer.#open(dbPath, clock);
    return new SimServer(dbPath, clock, server, storage);
  }

  static async #open(dbPath: string, clock: VirtualClock) {
    // On virtual time: write and apply times decide what a compaction removes.
    const storage = new SqliteStorage(dbPath, { now: () => clock.wallNow() });
    const server = await createServer({
      storage,
      schema: defaultSchema,
      auth: { secret: SIM_SECRET },
      logger: false,
      now: () => clock.wallNow(),
    });
    return { server, storage };
  }

  /** The live storage (invariant checks read it directly). */
  get storage(): SqliteStorage {
    return this.#storage;
  }

  /** A bearer token for `user`, valid for the whole run. */
  token(user: string): Promise<string> {
    return signDevToken(SIM_SECRET, user, { now: this.#clock.wallNow(), expiresIn: '3650d' });
  }

  /** A token for `user` that expired long ago (signed ten days back, valid for an hour). */
  expiredToken(user: string): Promise<string> {
    return signDevToken(SIM_SECRET, user, { now: this.#clock.wallNow() - 10 * 86_400_000, expiresIn: '1h' });
  }

  /** Handles one request to completion. */
  async handle(request: SimRequest): Promise<SimResponse> {
    const response = await this.#server.app.inject({
      method: request.method as 'GET',
      url: request.url,
      headers: request.headers,
      ...(request.body === undefined ? {} : { payload: request.body }),
    });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (typeof value === 'string') headers[name] = value;
      else if (typeof value === 'number') headers[name] = String(value);
    }
    return { status: response.statusCode, headers, body: response.body };
  }

  /** The process dies and comes back: every in-memory state is gone, the file remains. */
  async restart(): Promise<void> {
    await this.#server.close();
    await this.#storage.close();
    const { server, storage } = await SimServer.#open(this.dbPath, this.#clock);
    this.#server = server;
    this.#storage = storage;
    this.#listen();
    this.restarts++;
  }

  async close(): Promise<void> {
    await this.#server.close();
    await this.#storage.close();
  }
}
