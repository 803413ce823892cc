import type { FaultProfile } from './faults.js';
import type { Ledger } from './ledger.js';
import type { Prng } from './prng.js';
import type { SimRequest, SimResponse, SimServer } from './simServer.js';
import type { Trace } from './trace.js';
import type { VirtualClock } from './virtualClock.js';

/** The device side of a connection, as the network needs to know it. */
export interface NetworkPeer {
  readonly name: string;
  readonly user: string;
  /** Is the device online right now? */
  isOnline(): boolean;
  /** Bumped on every app kill / restart; a response for an older generation goes nowhere. */
  readonly generation: number;
  /** The app received the last answer of a `POST /v1/pull` (no `hasMore`), served as `served` says. */
  heardFinalPull?(served: unknown): void;
}

/**
 * A faulty network between the devices' REAL `HttpRemoteAPI` (through an injected fetch)
 * and the REAL server (through `app.inject()`). Every hop is an event on the virtual clock:
 *
 *   fetch ─▶ [drop request?] ─latency─▶ server.handle ─▶ [crash after commit? drop response?]
 *                     └─[duplicate?]─latency─▶ server.handle (answer discarded)
 *                                                   ─latency─▶ response to the app, if still running and online
 *
 * A lost message surfaces as fetch rejecting with a TypeError, as React Native's fetch does.
 *
 * With bursts on ({@link burstMs} > 0, SQLite worlds), requests arrive on a grid of `burstMs`
 * virtual ms, and every request arriving at the same instant is handed to the server at once:
 * the server handles them concurrently, so its group commit takes several users' pushes into
 * one transaction, as it does under load. What follows each answer (a crash after commit, a
 * lost response) then happens request by request, in arrival order.
 */
export class VirtualNetwork {
  /** Requests sent, per device name (the spin check reads it). */
  readonly requests = new Map<string, number>();
  /** Requests sent, per `METHOD /path` (the run's summary shows where requests go). */
  readonly routes = new Map<string, number>();
  /** Count of 401 (expired token) and 410 (reset required) answers, to prove those faults ran. */
  readonly answers = new Map<number, number>();
  /**
   * Resets after compaction the server asked for: 410 answers, and `reset` pages of
   * `POST /v1/pull` (a space's, or the private space's when it rides in the checkpoint).
   */
  resets = 0;
  /** Answers with a 5xx status: the server must never give one. */
  readonly serverErrors: string[] = [];
  readonly #clock: VirtualClock;
  readonly #server: SimServer;
  readonly #rng: Prng;
  readonly #ledger: Ledger;
  readonly #trace: Trace;
  faults: FaultProfile;
  /**
   * Called when the server has answered the last round of a `POST /v1/pull` (no `hasMore`), at
   * that instant; what it returns reaches the device with the answer (`heardFinalPull`).
   */
  onFinalPullServed: (peer: NetworkPeer) => unknown = () => undefined;
  /** Rejecters of requests not answered yet, so {@link close} can release them. */
  readonly #pending = new Set<(error: Error) => void>();
  /** The arrival grid of bursts in virtual ms; 0 delivers each request on its own. */
  burstMs = 0;
  /** Deliveries waiting for their burst's instant, by that instant. */
  readonly #bursts = new Map<number, Delivery[]>();

  constructor(deps: {
    clock: VirtualClock;
    server: SimServer;
    rng: Prng;
    ledger: Ledger;
    trace: Trace;
    faults: FaultProfile;
  }) {
    this.#clock = deps.clock;
    this.#server = deps.server;
    this.#rng = deps.rng;
    this.#ledger = deps.ledger;
    this.#trace = deps.trace;
    this.faults = deps.faults;
  }

  /** A fetch for `peer`'s current app generation. */
  fetchFor(peer: NetworkPeer): typeof fetch {
    return (input, init) => this.#fetch(peer, String(input), init ?? {});
  }

  /**
   * Ends the world: requests of killed apps are rejected at last. Their engines are frozen on
   * a closed store, so nothing runs on; but the transport's timeout timer is released, and
   * with it everything the world holds (a long run would otherwise keep every world alive).
   */
  close(): void {
    for (const reject of this.#pending) reject(new TypeError('Network request failed (world closed)'));
    this.#pending.clear();
  }

  #latency(): number {
    return this.#rng.int(0, this.faults.maxLatencyMs);
  }

  /** Hands `delivery` to the server after `delay`: alone, or with its burst (see {@link burstMs}). */
  #deliver(delay: number, label: string, delivery: Delivery): void {
    if (this.burstMs <= 0) {
      this.#clock.schedule(delay, 'network', label, async () =>
        delivery.answer(delivery.observe(await delivery.handle())),
      );
      return;
    }
    const at = Math.ceil((this.#clock.now + delay) / this.burstMs) * this.burstMs;
    const burst = this.#bursts.get(at);
    if (burst) {
      burst.push(delivery);
      return;
    }
    this.#bursts.set(at, [delivery]);
    this.#clock.schedule(at - this.#clock.now, 'network', `${label} (burst)`, async () => {
      const arrived = this.#bursts.get(at) ?? [];
      this.#bursts.delete(at);
      if (arrived.length > 1) this.#trace.add(`${arrived.length} requests arrive together`);
      const outcomes = await this.#server.together(arrived.map((each) => each.handle));
      // The ledger hears answers in the order the server's state changed: first those given
      // before the burst's group commit (pulls, refusals: they saw the state before it), then
      // the pushes, committed in arrival order.
      const order = [...outcomes.keys()].sort(
        (a, b) => Number(outcomes[b]?.beforeCommit) - Number(outcomes[a]?.beforeCommit) || a - b,
      );
      const handled: Handled[] = [];
      for (const index of order)
        handled[index] = (arrived[index] as Delivery).observe(outcomes[index]?.value as SimResponse);
      for (const [index, each] of arrived.entries()) await each.answer(handled[index] as Handled);
    });
  }

  #fetch(peer: NetworkPeer, href: string, init: RequestInit): Promise<Response> {
    const generation = peer.generation;
    const owner = `${peer.name}#${generation}`;
    const url = new URL(href);
    const request: SimRequest = {
      method: init.method ?? 'GET',
      url: url.pathname + url.search,
      headers: { ...(init.headers as Record<string, string>) },
      ...(typeof init.body === 'string' ? { body: init.body } : {}),
    };
    const label = `${peer.name} ${request.method} ${url.pathname}`;
    this.requests.set(peer.name, (this.requests.get(peer.name) ?? 0) + 1);
    const route = `${request.method} ${url.pathname}`;
    this.routes.set(route, (this.routes.get(route) ?? 0) + 1);
    return new Promise<Response>((resolve, reject) => {
      let finished = false;
      this.#pending.add(reject);
      // A killed app never hears back: its promise stays pending, as the process is gone.
      const finish = (settle: () => void) => {
        if (finished || peer.generation !== generation) return;
        finished = true;
        this.#pending.delete(reject);
        settle();
      };
      const fail = (why: string) => finish(() => reject(new TypeError(`Network request failed (${why})`)));
      init.signal?.addEventListener('abort', () =>
        finish(() => reject(new DOMException('The operation was aborted.', 'AbortError'))),
      );
      if (!peer.isOnline()) return fail('offline');
      const faults = this.faults;
      if (this.#rng.chance(faults.dropRequest)) {
        this.#trace.add(`${label}: request lost`);
        this.#clock.schedule(this.#latency(), owner, `${label} lost`, () => fail('request lost'));
        return;
      }
      const handle = () => this.#server.handle(request, peer.user);
      const observe = (response: SimResponse): Handled => {
        this.#ledger.observe(peer.name, peer.user, request, response.status, response.body, false);
        return { response, served: finalPull(request, response) ? this.onFinalPullServed(peer) : undefined };
      };
      const answer = async (copy: boolean, { response, served }: Handled) => {
        if (copy) return this.#trace.add(`${label}: duplicate delivered → ${response.status}`);
        if (response.status === 410) this.resets++;
        if (response.status === 200 && request.method === 'POST' && response.body.includes('"reset":true')) {
          const { pages } = JSON.parse(response.body) as { pages?: Array<{ reset?: boolean }> };
          this.resets += (pages ?? []).filter((page) => page.reset).length;
        }
        if (response.status === 401 || response.status === 410) {
          this.answers.set(response.status, (this.answers.get(response.status) ?? 0) + 1);
          this.#trace.add(`${label}: ${response.status === 401 ? '401 (token refused)' : '410 (reset required)'}`);
        }
        if (response.status >= 500)
          this.serverErrors.push(`${label} → ${response.status} ${response.body.slice(0, 200)}`);
        if (this.#rng.chance(faults.serverCrashAfterCommit)) {
          this.#trace.add(`${label}: server crashed after commit (${response.status}), restarting`);
          await this.#server.restart();
          this.#clock.schedule(this.#latency(), owner, `${label} reset`, () => fail('connection reset'));
          return;
        }
        if (this.#rng.chance(faults.dropResponse)) {
          this.#trace.add(`${label}: response lost (${response.status})`);
          this.#clock.schedule(this.#latency(), owner, `${label} reset`, () => fail('response lost'));
          return;
        }
        this.#clock.schedule(this.#latency(), owner, `${label} response`, () => {
          if (!peer.isOnline()) return fail('went offline');
          finish(() => {
            this.#ledger.observe(peer.name, peer.user, request, response.status, response.body, true, generation);
            if (served !== undefined) peer.heardFinalPull?.(served);
            const empty = response.status === 204 || response.status === 304;
            resolve(new Response(empty ? null : response.body, { status: response.status, headers: response.headers }));
          });
        });
      };
      // Deliveries are not owned by the app: a request on the wire arrives even if the app dies.
      this.#deliver(this.#latency(), `${label} deliver`, {
        handle,
        observe,
        answer: (handled) => answer(false, handled),
      });
      if (this.#rng.chance(faults.duplicate)) {
        this.#deliver(this.#latency(), `${label} deliver copy`, {
          handle,
          observe,
          answer: (handled) => answer(true, handled),
        });
      }
    });
  }
}

/** A request on its way to the server: handing it over, then what happens to its answer. */
interface Delivery {
  handle: () => Promise<SimResponse>;
  /** The server has answered: the ledger hears it (in the order the server's state changed). */
  observe: (response: SimResponse) => Handled;
  answer: (handled: Handled) => Promise<void>;
}

/** The server's answer, and what the final round of a pull told the device (see `onFinalPullServed`). */
interface Handled {
  response: SimResponse;
  served: unknown;
}

/** The last round of a multi-space pull: the device purges what its membership list lacks. */
function finalPull(request: SimRequest, response: { status: number; body: string }): boolean {
  if (request.method !== 'POST' || !request.url.startsWith('/v1/pull') || response.status !== 200) return false;
  return (JSON.parse(response.body) as { hasMore?: boolean }).hasMore === false;
}
