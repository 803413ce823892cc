import { LIVE_CLOSE } from '@ferry/protocol';
import type { WebSocket } from 'ws';

/** One authenticated live connection. */
interface Peer {
  socket: WebSocket;
  scope: string;
  /** When the token stops being accepted (ms, `exp` plus the clock tolerance). */
  expiresAt: number;
  /** False once a ping went out unanswered; the next heartbeat then drops the peer. */
  alive: boolean;
}

/**
 * Who is connected, per scope, and the heartbeat that drops dead peers. A storage commit in a
 * scope becomes one poke to every connection of that scope; nothing else is sent, so a poke
 * reveals only that the user's own data changed.
 *
 *   every heartbeatMs: token expired?                → close 4001 (the client reconnects with a fresh one)
 *                      peer answered the last ping? → ping again (+ heartbeat message)
 *                                           no     → terminate (no close handshake to wait on)
 */
export class LiveHub {
  readonly #peers = new Map<WebSocket, Peer>();
  readonly #byScope = new Map<string, Set<Peer>>();
  #heartbeat: NodeJS.Timeout | null = null;

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
  add(socket: WebSocket, scope: string, expiresAt: number): void {
    const peer: Peer = { socket, scope, expiresAt, alive: true };
    this.#peers.set(socket, peer);
    let scoped = this.#byScope.get(scope);
    if (!scoped) {
      scoped = new Set();
      this.#byScope.set(scope, scoped);
    }
    scoped.add(peer);
    socket.on('pong', () => {
      peer.alive = true;
    });
    socket.once('close', () => this.#remove(socket));
  }

  /** Sends `{ type: 'poke', cursor }` to every connection of `scope`. */
  poke(scope: string, cursor: number): void {
    const scoped = this.#byScope.get(scope);
    if (!scoped) return;
    const message = JSON.stringify({ type: 'poke', cursor });
    for (const peer of scoped) send(peer.socket, message);
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
    const scoped = this.#byScope.get(peer.scope);
    scoped?.delete(peer);
    if (scoped?.size === 0) this.#byScope.delete(peer.scope);
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

function send(socket: WebSocket, message: string): void {
  // OPEN only: a send on a closing socket throws in some ws versions and is pointless anyway.
  if (socket.readyState === 1) socket.send(message);
}
