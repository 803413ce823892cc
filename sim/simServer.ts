import {
  createServer,
  defaultSchema,
  type FerryServer,
  PostgresStorage,
  type ServerStorage,
  SqliteStorage,
  signDevToken,
} from '@ferry/server';
import type { VirtualClock } from './virtualClock.js';

/**
 * Holds the server's group commits while a burst of requests is handed over (see
 * {@link SimServer.together}); otherwise a commit runs in the check phase, as in production.
 */
class CommitGate {
  holding = false;
  #held: (() => void) | undefined;

  readonly schedule = (flush: () => void): void => {
    if (this.holding) this.#held = flush;
    else setImmediate(flush);
  };

  release(): void {
    this.holding = false;
    const held = this.#held;
    this.#held = undefined;
    if (held) setImmediate(held);
  }
}

/** How long, in real ms, a request of a burst may take to be answered or reach the group commit. */
const HANDOVER_TIMEOUT_MS = 60_000;

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

/** Where the server keeps its data: a SQLite file, or a PostgreSQL database (`postgres://…`). */
export type SimDatabase = { sqlite: string } | { postgres: string };

/**
 * The REAL Ferry server (Fastify app, push/pull logic, SQLite or PostgreSQL storage), driven
 * in-process through `app.inject()`. A restart closes the storage and opens it again, so only
 * what was committed survives.
 *
 * Commits reach the live fan-out in a fixed order on both backends: SQLite's commit listener
 * runs inside the request; PostgreSQL's (LISTEN/NOTIFY) would arrive whenever its socket does,
 * so there the server reads the writer's sequence after each write request instead.
 */
export class SimServer {
  readonly database: SimDatabase;
  readonly #clock: VirtualClock;
  #server: FerryServer;
  #storage: ServerStorage;
  /** Last sequence announced per scope (PostgreSQL). */
  readonly #announced = new Map<string, number>();
  restarts = 0;
  /** Group commits (SQLite): how many, how many held more than one push, the largest. */
  readonly groups = { commits: 0, shared: 0, largest: 0 };
  /** Hears every commit (scope, seq), across restarts: the live fan-out hangs off it. */
  onCommit: (scope: string, seq: number) => void = () => undefined;

  readonly #gate: CommitGate;

  private constructor(
    database: SimDatabase,
    clock: VirtualClock,
    gate: CommitGate,
    server: FerryServer,
    storage: ServerStorage,
  ) {
    this.database = database;
    this.#gate = gate;
    this.#clock = clock;
    this.#server = server;
    this.#storage = storage;
    this.#listen();
  }

  #listen(): void {
    if ('sqlite' in this.database) this.#storage.onCommit((scope, seq) => this.onCommit(scope, seq));
    if (this.#storage instanceof SqliteStorage) {
      this.#storage.onGroupCommit((pushes) => {
        this.groups.commits++;
        if (pushes > 1) this.groups.shared++;
        this.groups.largest = Math.max(this.groups.largest, pushes);
      });
    }
  }

  /** Opens the storage and builds the server on the virtual clock. */
  static async start(database: SimDatabase, clock: VirtualClock): Promise<SimServer> {
    const gate = new CommitGate();
    const { server, storage } = await SimServer.#open(database, clock, gate);
    return new SimServer(database, clock, gate, server, storage);
  }

  static async #open(database: SimDatabase, clock: VirtualClock, gate: CommitGate) {
    // On virtual time: write and apply times decide what a compaction removes.
    const now = () => clock.wallNow();
    const storage: ServerStorage =
      'sqlite' in database
        ? new SqliteStorage(database.sqlite, { now, scheduleGroupCommit: gate.schedule })
        : await PostgresStorage.open({ connectionString: database.postgres, maxConnections: 2, now });
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
  get storage(): ServerStorage {
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

  /** Handles one request of `scope`'s user to completion. */
  async handle(request: SimRequest, scope: string): Promise<SimResponse> {
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
    if ('postgres' in this.database && request.method !== 'GET' && response.statusCode < 300) {
      // The user's scope, and each shared space the push wrote in.
      const scopes = new Set([scope]);
      if (request.url.startsWith('/v1/push')) {
        const { changes } = JSON.parse(request.body ?? '{}') as { changes?: Array<{ space?: string }> };
        for (const change of changes ?? []) if (change.space) scopes.add(change.space);
      }
      for (const written of scopes) {
        const seq = await this.#storage.currentSeq(written);
        if (seq > (this.#announced.get(written) ?? 0)) {
          this.#announced.set(written, seq);
          this.onCommit(written, seq);
        }
      }
    }
    return { status: response.statusCode, headers, body: response.body };
  }

  /**
   * Handles requests that arrived at the same instant concurrently, as a loaded server does,
   * but deterministically: each is handed over in arrival order and runs until it is answered
   * or its push waits in the group commit, which is held until all of them were handed over.
   * So the group holds the burst's pushes in arrival order, whatever real threads (WebCrypto
   * verifying a token) took. Resolves with each answer, in arrival order, and whether it was
   * given before the burst's group commit (so it saw the state before the burst's pushes).
   */
  async together<T>(starts: ReadonlyArray<() => Promise<T>>): Promise<Array<{ value: T; beforeCommit: boolean }>> {
    const storage = this.#storage;
    if (!(storage instanceof SqliteStorage) || starts.length < 2) {
      return (await Promise.all(starts.map((start) => start()))).map((value) => ({ value, beforeCommit: false }));
    }
    const running: Promise<T>[] = [];
    const early: boolean[] = [];
    this.#gate.holding = true;
    try {
      for (const start of starts) {
        const queued = storage.queuedPushes;
        let answered = false;
        const answer = start();
        answer.then(
          () => (answered = true),
          () => (answered = true),
        );
        running.push(answer);
        // Bounded in real time, not in turns: a request may wait on a real thread (WebCrypto
        // verifying its token), which on a loaded machine takes far more turns than on an idle
        // one. How long it waits never changes what happens, only when the burst goes on.
        const deadline = performance.now() + HANDOVER_TIMEOUT_MS;
        for (let turn = 0; !answered && storage.queuedPushes === queued; turn++) {
          if (performance.now() > deadline) {
            throw new Error(
              `A request of a burst neither finished nor reached the group commit within ${HANDOVER_TIMEOUT_MS} ms`,
            );
          }
          // Turns of the event loop first; then real time, not to spin while a thread works.
          await new Promise<void>((resolve) => (turn < 1000 ? setImmediate(resolve) : setTimeout(resolve, 1)));
        }
        early.push(answered);
      }
    } finally {
      this.#gate.release();
    }
    return (await Promise.all(running)).map((value, index) => ({ value, beforeCommit: early[index] === true }));
  }

  /** The process dies and comes back: every in-memory state is gone, the file remains. */
  async restart(): Promise<void> {
    await this.#server.close();
    await this.#storage.close();
    const { server, storage } = await SimServer.#open(this.database, this.#clock, this.#gate);
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
