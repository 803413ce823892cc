import type { LiveChannel, LiveEvent } from '@ferry/client';
import type { FaultProfile } from './faults.js';
import type { Prng } from './prng.js';
import type { Trace } from './trace.js';
import type { VirtualClock } from './virtualClock.js';

/** A device as the live fan-out needs to know it. */
export interface LivePeer {
  readonly name: string;
  readonly user: string;
  readonly owner: string;
  isOnline(): boolean;
  /** The running app's live channel, if the app has one. */
  live(): SimLiveChannel | null;
}

/**
 * One app's live channel: the engine starts it while online and in front, and hears pokes
 * through it. Pokes arrive from {@link SimLiveHub}, never from a socket.
 */
export class SimLiveChannel implements LiveChannel {
  readonly #listeners = new Set<(event: LiveEvent) => void>();
  started = false;

  start(): void {
    this.started = true;
  }

  stop(): void {
    this.started = false;
  }

  subscribe(listener: (event: LiveEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Hands a poke to the engine (of a shared space when `space` is set). */
  deliver(cursor: number, space?: string): void {
    if (!this.started) return;
    const event: LiveEvent = space ? { type: 'poke', cursor, space } : { type: 'poke', cursor };
    for (const listener of [...this.#listeners]) listener(event);
  }
}

/**
 * The server's live fan-out over the virtual network: every commit pokes each started channel
 * of the scope's user after a latency; a poke can be lost or delivered twice at the seed's rates.
 * A lost poke must cost only latency (the interval sync still runs), a duplicate nothing.
 */
export class SimLiveHub {
  readonly #clock: VirtualClock;
  readonly #rng: Prng;
  readonly #trace: Trace;
  readonly #faults: () => FaultProfile;
  readonly #peers: () => readonly LivePeer[];
  pokes = 0;
  /** A shared space's members now (set when the world shares). */
  membersOf: ((space: string) => readonly string[]) | undefined;
  readonly #lastPoked = new Map<string, Set<string>>();

  constructor(deps: {
    clock: VirtualClock;
    rng: Prng;
    trace: Trace;
    faults: () => FaultProfile;
    peers: () => readonly LivePeer[];
  }) {
    this.#clock = deps.clock;
    this.#rng = deps.rng;
    this.#trace = deps.trace;
    this.#faults = deps.faults;
    this.#peers = deps.peers;
  }

  /**
   * A commit on the server: poke the devices of the scope's user, or of a shared space's
   * members (`membersOf`), and once more the users the space's last poke reached (as the
   * server does, so that the commit removing a member reaches that member's devices).
   */
  commit(scope: string, seq: number): void {
    const space = this.membersOf && scope.startsWith('sp_') ? scope : undefined;
    let users: Set<string>;
    if (space) {
      users = new Set([...this.membersOf!(space), ...(this.#lastPoked.get(space) ?? [])]);
      this.#lastPoked.set(space, new Set(this.membersOf!(space)));
    } else users = new Set([scope]);
    const faults = this.#faults();
    for (const peer of this.#peers()) {
      if (!users.has(peer.user) || !peer.isOnline() || !peer.live()?.started) continue;
      if (this.#rng.chance(faults.pokeLoss)) {
        this.#trace.add(`${peer.name}: poke ${space ? `${space}@` : ''}${seq} lost`);
        continue;
      }
      const copies = this.#rng.chance(faults.pokeDuplicate) ? 2 : 1;
      if (copies === 2) this.#trace.add(`${peer.name}: poke ${space ? `${space}@` : ''}${seq} duplicated`);
      for (let copy = 0; copy < copies; copy++) {
        const latency = this.#rng.int(0, faults.maxLatencyMs);
        this.#clock.schedule(latency, peer.owner, `${peer.name} poke ${seq}`, () => {
          this.pokes++;
          if (peer.isOnline()) peer.live()?.deliver(seq, space);
        });
      }
    }
  }
}
