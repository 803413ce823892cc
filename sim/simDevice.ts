import {
  ChangeTracker,
  Collection,
  ConflictResolver,
  type ConflictResolverLike,
  HttpRemoteAPI,
  LocalStore,
  Signal,
  Spaces,
  SyncErrorHandler,
  SyncManager,
  type Timers,
} from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { HybridLogicalClock } from '@ferry/protocol';
import { KillableDriver } from './killableDriver.js';
import type { PullTypes, SimType } from './partialSync.js';
import type { Prng } from './prng.js';
import { type LivePeer, SimLiveChannel } from './simLive.js';
import type { Trace } from './trace.js';
import type { VirtualClock } from './virtualClock.js';
import type { NetworkPeer, VirtualNetwork } from './virtualNetwork.js';

/** One running app: the REAL engine over a store on the device's SQLite file. */
export interface Engine {
  store: LocalStore;
  driver: KillableDriver;
  manager: SyncManager;
  todos: Collection;
  notes: Collection;
  /** `sync.spaces`, as an app has it. */
  spaces: Spaces;
  online: Signal<boolean>;
  /** Present when the app holds a live channel (pokes). */
  live: SimLiveChannel | null;
}

/** What a device needs from the world. */
export interface DeviceDeps {
  clock: VirtualClock;
  network: VirtualNetwork;
  trace: Trace;
  rng: Prng;
  token: string;
  /** What the token provider hands out while the token is expired and not refreshed. */
  expiredToken: string;
  /** Whether the app opens a live channel. */
  live: boolean;
  /** Whether conflicts park in the inbox (`manual`) instead of resolving by last write. */
  manual: boolean;
  /** Device clock skew in ms. */
  skew: number;
  /** The engine decided a conflict on a record (not a deferral to the inbox). */
  onDecision: (entityType: string, entityId: string) => void;
  batchSize: number;
  pageSize: number;
  writeDebounceMs: number;
  /**
   * A sync went through, and its pull ended with a membership list the server served as
   * `served` says (what the world passed to the network's `onFinalPullServed`).
   */
  onSynced?: (device: SimDevice, served: unknown) => void;
  /**
   * The app of `generation` was killed, and the store opened again (before the new app runs)
   * queues the changes `queued`.
   */
  onReopenedAfterKill?: (device: SimDevice, generation: number, queued: ReadonlySet<string>) => void;
}

/**
 * A phone: a SQLite file that outlives any app process, and at most one running engine on it.
 * `kill()` abandons the engine wherever it is; `open()` starts a new one from the file.
 */
export class SimDevice implements NetworkPeer, LivePeer {
  readonly name: string;
  readonly user: string;
  readonly dbPath: string;
  readonly #deps: DeviceDeps;
  generation = 0;
  engine: Engine | null = null;
  #online = true;
  /** The token expired and the app has not refreshed it yet (it persists across app restarts). */
  tokenExpired = false;
  tokenRefreshes = 0;
  /** What the world noted when the current cycle's last multi-space pull answer was served. */
  #finalPull: unknown;
  /** The generation of the app killed last, until the device is opened again. */
  #killed: number | undefined;
  /** The `pullTypes` the next app opened on the device runs with (partial sync). */
  pullTypes: PullTypes;
  /** Highest private cursor seen committed, per cursor key (the engine keeps one per set of types). */
  readonly cursorsSeen = new Map<string, number>();

  constructor(name: string, user: string, dbPath: string, deps: DeviceDeps, pullTypes?: PullTypes) {
    this.name = name;
    this.user = user;
    this.dbPath = dbPath;
    this.#deps = deps;
    this.pullTypes = pullTypes;
  }

  /** The app's collection of `type`. */
  collection(type: SimType): Collection {
    const engine = this.engine;
    if (!engine) throw new Error(`${this.name} is not running`);
    return type === 'notes' ? engine.notes : engine.todos;
  }

  isOnline(): boolean {
    return this.#online && this.engine !== null;
  }

  live(): SimLiveChannel | null {
    return this.engine?.live ?? null;
  }

  heardFinalPull(served: unknown): void {
    this.#finalPull = served;
  }

  /** The token expires now: requests carry it until the engine asks for a refresh. */
  expireToken(): void {
    this.tokenExpired = true;
  }

  setOnline(online: boolean): void {
    this.#online = online;
    this.engine?.online.set(online);
  }

  get owner(): string {
    return `${this.name}#${this.generation}`;
  }

  /** Starts an app process on the device's file. */
  async open(): Promise<Engine> {
    const { clock, network, rng, token, expiredToken, skew } = this.#deps;
    this.generation++;
    const owner = this.owner;
    const now = () => clock.wallNow() + skew;
    const driver = new KillableDriver(createBetterSqliteDriver(this.dbPath, { synchronous: 'OFF' }), () =>
      this.#abandon('killed inside a store call'),
    );
    const store = await LocalStore.open(driver);
    if (this.#killed !== undefined && this.#deps.onReopenedAfterKill) {
      const { rows } = await driver.uncounted(() =>
        store.read((tx) => tx.execute('SELECT change_id FROM ferry_outbox')),
      );
      this.#deps.onReopenedAfterKill(this, this.#killed, new Set(rows.map((row) => String(row.change_id))));
    }
    this.#killed = undefined;
    const tracker = new ChangeTracker(store, this.name, {
      clock: new HybridLogicalClock(this.name, { now }),
      random: rng.random,
    });
    const timers: Timers = {
      setTimeout: (fn, ms) => clock.schedule(ms, owner, `${this.name} timer ${ms}ms`, fn),
      clearTimeout: (handle) => clock.cancel(handle),
    };
    const online = new Signal(this.#online);
    const live = this.#deps.live ? new SimLiveChannel() : null;
    const manager = new SyncManager({
      localStore: store,
      // The timeout is virtual: the network fails a lost request itself, so the real timer never fires.
      remoteAPI: new HttpRemoteAPI({
        baseUrl: 'http://ferry.sim',
        // A refresh is the only way out of an expired token, as with a real identity provider.
        getToken: ({ forceRefresh }) => {
          if (forceRefresh && this.tokenExpired) {
            this.tokenExpired = false;
            this.tokenRefreshes++;
            this.#deps.trace.add(`${this.name}: token refreshed`);
          }
          return this.tokenExpired ? expiredToken : token;
        },
        fetch: network.fetchFor(this),
        timeoutMs: 2_000_000_000,
        now,
      }),
      changeTracker: tracker,
      conflictResolver: this.#resolver(),
      errorHandler: new SyncErrorHandler({ random: rng.random, now }),
      timers,
      now,
      online,
      syncInterval: 30_000,
      writeDebounceMs: this.#deps.writeDebounceMs,
      batchSize: this.#deps.batchSize,
      pageSize: this.#deps.pageSize,
      ...(this.pullTypes ? { pullTypes: this.pullTypes } : {}),
      ...(live ? { live } : {}),
    });
    const spaces = new Spaces(tracker, async () => this.user, rng.random);
    const todos = new Collection('todos', tracker);
    const notes = new Collection('notes', tracker);
    this.engine = { store, driver, manager, todos, notes, spaces, online, live };
    this.#finalPull = undefined;
    const onSynced = this.#deps.onSynced;
    const generation = this.generation;
    if (onSynced) {
      manager.subscribeToProgress((progress) => {
        // A cycle starts with its push: an answer heard by an earlier cycle (one that failed) does not count.
        if (progress.phase === 'preparing' || progress.phase === 'uploading') this.#finalPull = undefined;
        if (progress.phase !== 'complete' || this.#finalPull === undefined || this.generation !== generation) return;
        const served = this.#finalPull;
        this.#finalPull = undefined;
        onSynced(this, served);
      });
    }
    await manager.ready();
    return this.engine;
  }

  /** The device's resolver, telling the world about every decision it makes. */
  #resolver(): ConflictResolverLike {
    const inner = new ConflictResolver(this.#deps.manual ? 'manual' : 'last-write-wins');
    return {
      resolve: async (conflict) => {
        const resolution = await inner.resolve(conflict);
        if (resolution.winner !== 'deferred') this.#deps.onDecision(conflict.entityType, conflict.entityId);
        return resolution;
      },
    };
  }

  #abandon(why: string): void {
    if (!this.engine) return;
    this.#deps.trace.add(`${this.name}: app killed (${why})`);
    this.#killed = this.generation;
    this.engine = null;
    this.#deps.clock.cancelOwner(this.owner);
    this.generation++;
  }

  /** Kills the app now, wherever it is (blocked on the network, or idle). */
  kill(): void {
    const engine = this.engine;
    if (!engine) return;
    this.#abandon('killed while waiting');
    engine.driver.kill();
  }

  /** Kills the app at its `statements`-th next store statement: mid-transaction, mid-sync. */
  armKill(statements: number): void {
    this.engine?.driver.armKill(statements);
  }

  /** A graceful close (an app upgrade): stops syncing and closes the store. */
  async close(): Promise<void> {
    const engine = this.engine;
    if (!engine) return;
    this.engine = null;
    await engine.manager.stop();
    this.#deps.clock.cancelOwner(this.owner);
    this.generation++;
    await engine.store.close();
  }
}
