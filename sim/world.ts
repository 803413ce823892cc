import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabaseOn, dropDatabaseOn } from '../test/support/postgres.js';
import { describeFaults, drawFaults, type FaultProfile } from './faults.js';
import { InvariantError } from './invariants.js';
import { Ledger, SharedWrites } from './ledger.js';
import { describeTypes, PartialSync } from './partialSync.js';
import { Prng } from './prng.js';
import { Sharing } from './sharing.js';
import { checkPurged } from './sharingInvariants.js';
import { SimDevice } from './simDevice.js';
import { SimLiveHub } from './simLive.js';
import { SimServer } from './simServer.js';
import { Trace } from './trace.js';
import { settle, VirtualClock } from './virtualClock.js';
import { VirtualNetwork } from './virtualNetwork.js';

/** The two users every world has: devices alternate between them, ids overlap on purpose. */
export const USERS = ['alice', 'bob'] as const;

/** What one seed's world is made of. */
export interface WorldOptions {
  seed: number;
  /** Devices; a `[min, max]` range is drawn from the seed. */
  clients: number | readonly [number, number];
  /** User and environment steps before healing. */
  ops: number;
  /** Where the SQLite files go; defaults to /dev/shm when present (no real fsync cost). */
  baseDir?: string;
  /** Receives every trace line as it happens (`--verbose`). */
  echo?: (line: string) => void;
  /**
   * Users the devices alternate between. Default {@link USERS}, or 2-4 drawn users when the
   * world shares; a world given its users shares only with `sharing: true`.
   */
  users?: readonly string[];
  /**
   * Whether a user resolving a parked conflict on a shared entity may pick the server's side.
   * On by default; `FERRY_SIM_SERVER_WINS=0` turns it off.
   */
  serverWins?: boolean;
  /**
   * Whether some devices run the `manual` strategy with a conflict inbox. On by default;
   * `FERRY_SIM_MANUAL=0` turns it off. The draws are made either way, so a seed's world is
   * otherwise the same.
   */
  manual?: boolean;
  /**
   * Whether the server compacts history now and then. On by default; `FERRY_SIM_COMPACTION=0`
   * turns it off (drawn either way).
   */
  compaction?: boolean;
  /**
   * A PostgreSQL cluster's admin URL (`postgres://…/postgres`): the server then runs on a fresh
   * database of it instead of a SQLite file. Default `FERRY_SIM_PG`.
   */
  postgres?: string;
  /**
   * Whether users share spaces (2-4 users, spaces, grants, revokes, writes by every role).
   * On by default; `FERRY_SIM_SHARING=0` turns it off, and the world is then exactly the one
   * it was before sharing existed.
   */
  sharing?: boolean;
  /**
   * Whether requests arrive in bursts that the server handles concurrently (SQLite worlds: its
   * group commit then takes several pushes into one transaction). On by default on SQLite;
   * `FERRY_SIM_BURSTS=0` turns it off, and never on PostgreSQL. The burst grid is drawn from a
   * stream of its own.
   */
  bursts?: boolean;
  /**
   * Whether apps write `notes` beside `todos`, devices pull a drawn subset of the types, and apps
   * restart with other `pullTypes` (partial sync). On by default; `FERRY_SIM_TYPES=0` turns it
   * off, and the world is then exactly the one it was before. A world given its users (the model
   * test's) runs it only when asked.
   */
  types?: boolean;
  /** Alters the world once built: tests plant a bug to prove the invariants catch it. */
  tamper?: (world: World) => void;
}

/** The key of a single-writer record in {@link World.model} (users, types and ids hold no `/`). */
export function modelKey(user: string, type: string, id: string): string {
  return `${user}/${type}/${id}`;
}

/** The outcome of an app call that may be cut short by a kill. */
export type AppResult<T> = { killed: true } | { killed: false; value: T };

/** A fault regime's switch: on unless the variable is `0`. */
export function regime(variable: string): boolean {
  return process.env[variable] !== '0';
}

function defaultBaseDir(): string {
  try {
    return mkdtempSync('/dev/shm/ferry-sim-');
  } catch {
    return mkdtempSync(join(tmpdir(), 'ferry-sim-'));
  }
}

/**
 * One simulated world: the real server on a file, N devices each running the real engine on
 * its own file, a faulty virtual network between them, all on one virtual clock and one PRNG.
 */
export class World {
  readonly seed: number;
  readonly rng: Prng;
  readonly clock: VirtualClock;
  readonly trace: Trace;
  readonly ledger = new Ledger();
  readonly dir: string;
  readonly faults: FaultProfile;
  readonly devices: SimDevice[] = [];
  /** Private records (one writer): `user/type/id` → the last value the app saw committed (null: deleted). */
  readonly model = new Map<string, string | null>();
  /** Writes on shared todos and conflict decisions: none may vanish. */
  readonly shared = new SharedWrites();
  kills = 0;
  /** Bearer token of each user. */
  readonly tokens = new Map<string, string>();
  server!: SimServer;
  network!: VirtualNetwork;
  liveHub!: SimLiveHub;
  /** History compactions run so far. */
  compactions = 0;
  /** Parked conflicts the apps resolved from their inbox. */
  inboxResolved = 0;
  /** The sharing regime, when on. */
  readonly sharing: Sharing | null;
  /** The partial-sync regime, when on. */
  readonly partial: PartialSync | null;
  /** The arrival grid of request bursts in virtual ms (0: off; always off on PostgreSQL). */
  readonly burstMs: number;
  /** The users the devices alternate between. */
  readonly users: readonly string[];
  /** Broken invariants found by checks that run inside engine callbacks (thrown at the next check). */
  readonly violations: string[] = [];
  /** Checks started inside engine callbacks, awaited before the next check. */
  readonly #checks = new Set<Promise<void>>();

  readonly options: WorldOptions;
  #dropDatabase: (() => Promise<void>) | undefined;

  private constructor(options: WorldOptions, dir: string) {
    this.options = options;
    this.seed = options.seed;
    this.rng = new Prng(options.seed);
    const clients =
      typeof options.clients === 'number' ? options.clients : this.rng.int(options.clients[0], options.clients[1]);
    this.faults = drawFaults(this.rng, clients);
    if (!(options.compaction ?? regime('FERRY_SIM_COMPACTION'))) this.faults.compaction = 0;
    // A world given its users (the model test's) shares only when asked.
    const sharing = options.sharing ?? (options.users === undefined && regime('FERRY_SIM_SHARING'));
    this.sharing = sharing ? new Sharing(options.seed, clients) : null;
    this.users = options.users ?? this.sharing?.users ?? USERS;
    const types = options.types ?? (options.users === undefined && regime('FERRY_SIM_TYPES'));
    this.partial = types ? new PartialSync(options.seed) : null;
    // A stream apart from the world's: with bursts off, the world is the one it always was.
    // Never on PostgreSQL: concurrent requests on a real database finish in an order no seed
    // decides, so a replay would not be the same world (and it has no group commit of ours).
    const bursts = (options.bursts ?? regime('FERRY_SIM_BURSTS')) && !(options.postgres ?? process.env.FERRY_SIM_PG);
    this.burstMs = bursts ? new Prng((options.seed ^ 0x3c3c3c3) + 11).int(50, 300) : 0;
    this.clock = new VirtualClock(Math.max(50_000, options.ops * clients * 400));
    this.trace = new Trace(() => this.clock.now, 300);
    this.trace.echo = options.echo;
    this.dir = dir;
  }

  /** Builds the world and starts every app. */
  static async create(options: WorldOptions): Promise<World> {
    const dir = options.baseDir ? mkdtempSync(join(options.baseDir, 'ferry-sim-')) : defaultBaseDir();
    const world = new World(options, dir);
    try {
      await world.#start();
      options.tamper?.(world);
    } catch (error) {
      await world.close();
      throw error;
    }
    return world;
  }

  async #start(): Promise<void> {
    const sharingLine = this.sharing
      ? `; sharing among ${this.users.join(',')} at ${(this.sharing.rate * 100).toFixed(0)}% of ops`
      : '';
    const burstLine = this.burstMs > 0 ? `; requests arrive in bursts every ${this.burstMs} ms` : '';
    const typesLine = this.partial
      ? `; ${(this.partial.noteShare * 100).toFixed(0)}% of writes are notes, pullTypes change at ${(this.partial.changeRate * 100).toFixed(1)}% of ops`
      : '';
    this.trace.add(
      `seed ${this.seed}: ${this.faults.skews.length} devices; ${describeFaults(this.faults)}${sharingLine}${burstLine}${typesLine}`,
    );
    const postgres = this.options.postgres ?? process.env.FERRY_SIM_PG;
    if (postgres) {
      // One database per world; process and time keep concurrent workers and reruns apart.
      const name = `ferry_sim_${process.pid}_${Math.trunc(this.seed)}_${Date.now() % 1_000_000}`;
      const url = await createDatabaseOn(postgres, name);
      this.#dropDatabase = () => dropDatabaseOn(postgres, name);
      this.server = await SimServer.start({ postgres: url }, this.clock);
    } else {
      this.server = await SimServer.start({ sqlite: join(this.dir, 'server.db') }, this.clock);
    }
    this.network = new VirtualNetwork({
      clock: this.clock,
      server: this.server,
      rng: this.rng.fork(),
      ledger: this.ledger,
      trace: this.trace,
      faults: this.faults,
    });
    this.network.burstMs = this.burstMs;
    this.liveHub = new SimLiveHub({
      clock: this.clock,
      rng: this.rng.fork(),
      trace: this.trace,
      faults: () => this.network.faults,
      peers: () => this.devices,
    });
    this.server.onCommit = (scope, seq) => this.liveHub.commit(scope, seq);
    const sharing = this.sharing;
    if (sharing) {
      // The seq the change got in its space orders the model's membership changes: docs/sharing.md
      // settles two role changes of one member by commit order, and in a burst a push writing
      // several spaces commits them in successive groups, so answers are not heard in that order.
      this.ledger.onApplied = (user, change, seq) => sharing.applied(user, change, seq);
      this.network.onFinalPullServed = (peer) => new Set(sharing.spacesOf(peer.user));
      this.liveHub.membersOf = (space) => [...(sharing.members.get(space)?.keys() ?? [])];
    }
    const tokens = this.tokens;
    const users = this.users;
    const expired = new Map<string, string>();
    for (const user of users) {
      tokens.set(user, await this.server.token(user));
      expired.set(user, await this.server.expiredToken(user));
    }
    for (const [index, skew] of this.faults.skews.entries()) {
      const user = users[index % users.length]!;
      const pullTypes = this.partial?.initial();
      if (pullTypes) this.trace.add(`dev${index}: pulls ${describeTypes(pullTypes)}`);
      const device = new SimDevice(
        `dev${index}`,
        user,
        join(this.dir, `dev${index}.db`),
        {
          clock: this.clock,
          network: this.network,
          trace: this.trace,
          rng: this.rng.fork(),
          token: tokens.get(user)!,
          expiredToken: expired.get(user)!,
          live: this.rng.chance(this.faults.live),
          manual: this.rng.chance(this.faults.manual) && (this.options.manual ?? regime('FERRY_SIM_MANUAL')),
          skew,
          onDecision: (entityType, entityId) => this.shared.decided(`dev${index}`, entityType, entityId),
          // Mostly realistic sizes; sometimes tiny ones, to exercise paging and batching edges.
          batchSize: this.rng.chance(0.2) ? this.rng.int(1, 3) : this.rng.int(10, 50),
          pageSize: this.rng.chance(0.2) ? this.rng.int(1, 5) : this.rng.int(20, 200),
          writeDebounceMs: this.rng.pick([300, 1000, 3000]),
          ...(sharing ? { onSynced: (synced: SimDevice, served: unknown) => this.#afterSync(synced, served) } : {}),
          onReopenedAfterKill: (reopened, generation, queued) =>
            this.ledger.refusalsLostWith(reopened.name, generation, queued),
        },
        pullTypes,
      );
      this.devices.push(device);
      await this.clock.drive(device.open(), `${device.name} open`);
    }
  }

  /**
   * Runs an app call (a write, a read) and lets it finish. If the app is killed during the
   * call, it never finishes: that is reported, not waited for.
   */
  async app<T>(device: SimDevice, call: () => Promise<T>): Promise<AppResult<T>> {
    const generation = device.generation;
    if (!device.engine) return { killed: true };
    let outcome: { value: T } | { error: unknown } | undefined;
    call().then(
      (value) => {
        outcome = { value };
      },
      (error: unknown) => {
        outcome = { error };
      },
    );
    for (let round = 0; round < 50 && !outcome; round++) await settle(1);
    // The app saw the call succeed even if a kill came right after (e.g. in a store listener).
    if (outcome && 'value' in outcome) return { killed: false, value: outcome.value };
    if (device.generation !== generation) return { killed: true };
    if (!outcome) throw new InvariantError(`${device.name}: an app call never finished (a lock is held)`);
    throw outcome.error;
  }

  /** (a) right after a sync went through: nothing left of a space the user was not a member of. */
  #afterSync(device: SimDevice, members: unknown): void {
    const engine = device.engine;
    // An armed kill counts statements: the check would move it (and reads nothing a kill could not).
    if (!engine || engine.driver.armed) return;
    const check = checkPurged(device, members as Set<string>).catch((error: unknown) => {
      if (error instanceof InvariantError) this.violations.push(error.message);
      // Otherwise the app died under the check (its store closed): nothing to judge.
    });
    this.#checks.add(check);
    void check.finally(() => this.#checks.delete(check));
  }

  /** Waits for checks started in engine callbacks; throws the first invariant they found broken. */
  async checkViolations(): Promise<void> {
    await Promise.all(this.#checks);
    const first = this.violations[0];
    if (first) throw new InvariantError(first);
  }

  /** The user of the device (its engine's client id is the device name). */
  userOfClient(clientId: string): string | undefined {
    return this.devices.find((device) => device.name === clientId)?.user;
  }

  /** Fails on any 5xx the server gave so far. */
  checkServerErrors(): void {
    const first = this.network.serverErrors[0];
    if (first) throw new InvariantError(`the server answered with a 5xx: ${first}`);
  }

  /** Removes every file of the world. Engines of killed apps are simply dropped. */
  async close(): Promise<void> {
    for (const device of this.devices) {
      if (device.engine) device.kill();
    }
    this.network?.close();
    await this.server?.close().catch(() => undefined);
    await this.#dropDatabase?.();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
