import { LIVE_CLOSE } from '@ferry/protocol';
import type { WebSocket } from 'ws';

/** One authenticated live connection. */
interface Peer {
  socket: WebSocket;
  /** The user (their private space's scope). */
  scope: string;
  /** Shared spaces granted by the token (membership from the token), else null. */
  tokenSpaces: ReadonlySet<string> | null;
  /** When the token stops being accepted (ms, `exp` plus the clock tolerance). */
  expiresAt: number;
  /** False once a ping went out unanswered; the next heartbeat then drops the peer. */
  alive: boolean;
}

/**
 * Who is connected, per user, and the heartbeat that drops dead peers. A commit in a user's
 * private space becomes one poke to every connection of that user; a commit in a shared space
 * one poke (naming the space) to every connection of each member, as the caller lists them
 * at that moment. Nothing else is sent, so a poke reveals only that a space the user may read
 * changed.
 *
 *   every heartbeatMs: token expired?                → close 4001 (the client reconnects with a fresh one)
 *                      peer answered the last ping? → ping again (+ heartbeat message)
 *                                           no     → terminate (no close handshake to wait on)
 */
export class LiveHub {
  readonly #peers = new Map<WebSocket, Peer>();
  readonly #byScope = new Map<string, Set<Peer>>();
  /** Connections per shared space their token grants (membership from the token), so a poke costs its members' sockets only. */
  readonly #byTokenSpace = new Map<string, Set<Peer>>();
  #heartbeat: NodeJS.Timeout | null = null;
  readonly #pokeListeners: Array<() => void> = [];

  readonly #now: () => number;

  constructor(heartbeatMs: number, now: () => number) {
    this.#now = now;
    this.#heartbeat = globalThis.setInterval(() => this.#beat(), heartbeatMs) as unknown as NodeJS.Timeout;
    // The server's own close ends the hub; the interval must not keep a process alive.
    this.#heartbeat.unref();
  }

  /** Number of authenticated connections (all scopes). */
  get size(): number {
    return this.#peers.size;
  }

  /** Adds an authenticated connection; it leaves the hub when it closes. */
  add(socket: WebSocket, scope: string, expiresAt: number, tokenSpaces: ReadonlySet<string> | null = null): void {
    const peer: Peer = { socket, scope, tokenSpaces, expiresAt, alive: true };
    this.#peers.set(socket, peer);
    join(this.#byScope, scope, peer);
    for (const space of tokenSpaces ?? []) join(this.#byTokenSpace, space, peer);
    socket.on('pong', () => {
      peer.alive = true;
    });
    socket.once('close', () => this.#remove(socket));
  }

  /** Calls `listener` at every poke broadcast (metrics count them). */
  onPoke(listener: () => void): void {
    this.#pokeListeners.push(listener);
  }

  /** Open connections per user (the inspector lists them). */
  connectionsByUser(): Map<string, number> {
    return new Map([...this.#byScope].map(([scope, peers]) => [scope, peers.size]));
  }

  #announce(): void {
    for (const listener of this.#pokeListeners) listener();
  }

  /** Sends `{ type: 'poke', cursor }` to every connection of `scope`. */
  poke(scope: string, cursor: number): void {
    this.#announce();
    const scoped = this.#byScope.get(scope);
    if (!scoped) return;
    const message = JSON.stringify({ type: 'poke', cursor });
    for (const peer of scoped) send(peer.socket, message);
  }

  /** True while `user` has a connection. */
  isConnected(user: string): boolean {
    return this.#byScope.has(user);
  }

  /** Sends `{ type: 'poke', cursor, space }` to every connection of each of `users`. */
  pokeUsers(users: Iterable<string>, space: string, cursor: number): void {
    this.#announce();
    const message = JSON.stringify({ type: 'poke', cursor, space });
    for (const user of users) {
      for (const peer of this.#byScope.get(user) ?? []) send(peer.socket, message);
    }
  }

  /**
   * Sends `{ type: 'poke', cursor, space }` to every connection whose token grants `space`:
   * an index lookup, so a commit costs the space's connected members, not every connection.
   */
  pokeTokenSpace(space: string, cursor: number): void {
    this.#announce();
    const message = JSON.stringify({ type: 'poke', cursor, space });
    for (const peer of this.#byTokenSpace.get(space) ?? []) send(peer.socket, message);
  }

  /** How many connections hold a token granting `space` (membership from the token). */
  tokenSpaceConnections(space: string): number {
    return this.#byTokenSpace.get(space)?.size ?? 0;
  }

  /** Closes every connection with `code` and stops the heartbeat. */
  close(code: number, reason: string): void {
    if (this.#heartbeat !== null) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
    for (const socket of [...this.#peers.keys()]) socket.close(code, reason);
  }

  #remove(socket: WebSocket): void {
    const peer = this.#peers.get(socket);
    if (!peer) return;
    this.#peers.delete(socket);
    leave(this.#byScope, peer.scope, peer);
    for (const space of peer.tokenSpaces ?? []) leave(this.#byTokenSpace, space, peer);
  }

  #beat(): void {
    const now = this.#now();
    for (const peer of [...this.#peers.values()]) {
      if (now >= peer.expiresAt) {
        peer.socket.close(LIVE_CLOSE.TOKEN_EXPIRED, 'Token expired; reconnect with a fresh token');
        this.#remove(peer.socket);
        continue;
      }
      if (!peer.alive) {
        peer.socket.terminate();
        this.#remove(peer.socket);
        continue;
      }
      peer.alive = false;
      try {
        peer.socket.ping();
      } catch {
        // Already closing; the close event removes it.
      }
      // Browsers never see ping frames; a message lets the client notice a dead server too.
      send(peer.socket, '{"type":"heartbeat"}');
    }
  }
}

function join(index: Map<string, Set<Peer>>, key: string, peer: Peer): void {
  let peers = index.get(key);
  if (!peers) {
    peers = new Set();
    index.set(key, peers);
  }
  peers.add(peer);
}

/** Removes `peer` under `key`, and the key once empty: the index never outgrows the live connections. */
function leave(index: Map<string, Set<Peer>>, key: string, peer: Peer): void {
  const peers = index.get(key);
  peers?.delete(peer);
  if (peers?.size === 0) index.delete(key);
}

function send(socket: WebSocket, message: string): void {
  // OPEN only: a send on a closing socket throws in some ws versions and is pointless anyway.
  if (socket.readyState === 1) socket.send(message);
}
