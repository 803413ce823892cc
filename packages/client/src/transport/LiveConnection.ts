/**
 * The client end of the live-poke channel (`GET /v1/live`, see `@ferry/protocol`'s `live.ts`).
 *
 *              start()
 *   stopped ────────────▶ connecting ──ready──▶ open ──poke──▶ listeners
 *      ▲                   │  ▲   │ closed, error,             │ closed, or silent
 *      │ stop()            │  │   │ connect timeout            │ for idleTimeoutMs
 *      │                   │  │   ▼                            ▼
 *      └── (any state) ────┘  └── waiting (backoff with jitter) ◀┘
 *
 *   failed: the server speaks another protocol version; only start() again leaves it.
 *
 * Every wait is bounded: connecting by `connectTimeoutMs`, open by `idleTimeoutMs` (the server
 * sends a heartbeat well within it), waiting by the backoff cap.
 */
import { LIVE_CLOSE, PROTOCOL_VERSION, parseLiveServerMessage } from '@ferry/protocol';
import { SyncError } from '../errors.js';
import { defaultTimers, type Timers } from '../signals.js';
import { Emitter } from '../util/Emitter.js';
import type { TokenProvider } from './HttpRemoteAPI.js';
import { backoffDelay, resolveWebSocketFactory, type WebSocketFactory, type WebSocketLike } from './webSocket.js';

/** What the channel tells its listeners: connected (`ready`) or data changed (`poke`). */
export interface LiveEvent {
  type: 'ready' | 'poke';
  /** The server's latest sequence number for this user (of `space`, when set). */
  cursor: number;
  /** A poke of a shared space: that space changed. */
  space?: string;
}

/** Where the channel is in its state machine. */
export type LiveStatus = 'stopped' | 'connecting' | 'open' | 'waiting' | 'failed';

/** Options of a {@link LiveConnection}. */
export interface LiveConnectionOptions {
  /** `ws://` or `wss://` URL of `/v1/live`. */
  url: string;
  getToken?: TokenProvider;
  /** Opens a socket; defaults to the platform's global `WebSocket` (Node 20 has none: pass `ws`). */
  webSocket?: WebSocketFactory;
  timers?: Timers;
  /** Jitter source in `[0, 1)`. */
  random?: () => number;
  /** First reconnect delay. Default 1000 ms. */
  baseDelayMs?: number;
  /** Reconnect delay cap. Default 30 000 ms. */
  maxDelayMs?: number;
  /** Open + hello + ready must finish within this. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Silence after which an open channel counts as dead (> 2 server heartbeats). Default 75 000 ms. */
  idleTimeoutMs?: number;
}

/**
 * Keeps one live connection open while started, and reconnects with backoff and jitter.
 *
 * @example
 * import WebSocket from 'ws'; // Node only; React Native and browsers have a global WebSocket
 * const live = new LiveConnection({ url: 'ws://127.0.0.1:8787/v1/live', getToken, webSocket: (u) => new WebSocket(u) });
 * live.subscribe((event) => void syncManager.triggerSync());
 * live.start();
 */
export class LiveConnection {
  readonly #options: LiveConnectionOptions;
  readonly #timers: Timers;
  readonly #random: () => number;
  readonly #events = new Emitter<LiveEvent>();
  readonly #statuses = new Emitter<LiveStatus>();
  #status: LiveStatus = 'stopped';
  #socket: WebSocketLike | null = null;
  #timer: unknown = null;
  #attempts = 0;
  #forceRefresh = false;
  /** Bumped on every new attempt and on stop: callbacks of an old socket are ignored. */
  #generation = 0;

  constructor(options: LiveConnectionOptions) {
    if (!/^wss?:\/\//i.test(options.url)) {
      throw new SyncError(
        'VALIDATION_ERROR',
        `LiveConnection: url must start with ws:// or wss://, got "${options.url}"`,
      );
    }
    this.#options = options;
    this.#timers = options.timers ?? defaultTimers;
    this.#random = options.random ?? Math.random;
  }

  get status(): LiveStatus {
    return this.#status;
  }

  /** Listens to `ready` and `poke` events; returns unsubscribe. */
  subscribe(listener: (event: LiveEvent) => void): () => void {
    return this.#events.subscribe(listener);
  }

  /** Listens to status changes; returns unsubscribe. */
  subscribeToStatus(listener: (status: LiveStatus) => void): () => void {
    return this.#statuses.subscribe(listener);
  }

  /** Connects (idempotent while connecting, open or waiting). */
  start(): void {
    if (this.#status !== 'stopped' && this.#status !== 'failed') return;
    this.#attempts = 0;
    void this.#connect();
  }

  /** Closes the socket and cancels every timer. */
  stop(): void {
    this.#teardown();
    this.#setStatus('stopped');
  }

  async #connect(): Promise<void> {
    this.#teardown();
    const generation = this.#generation;
    this.#setStatus('connecting');
    this.#arm(this.#options.connectTimeoutMs ?? 10_000, () => this.#lost(generation));
    let token: string | null | undefined;
    try {
      const forceRefresh = this.#forceRefresh;
      this.#forceRefresh = false;
      token = await this.#options.getToken?.({ forceRefresh });
    } catch {
      return this.#lost(generation);
    }
    if (generation !== this.#generation) return;
    let socket: WebSocketLike;
    try {
      socket = resolveWebSocketFactory(this.#options.webSocket)(this.#options.url);
    } catch {
      return this.#lost(generation);
    }
    this.#socket = socket;
    socket.onopen = () => {
      if (generation !== this.#generation) return;
      socket.send(JSON.stringify({ type: 'hello', protocolVersion: PROTOCOL_VERSION, token: token ?? '' }));
    };
    socket.onmessage = (event) => {
      if (generation !== this.#generation) return;
      const message = parseLiveServerMessage(typeof event.data === 'string' ? event.data : String(event.data));
      if (!message) return;
      // Any message proves the channel alive.
      this.#arm(this.#options.idleTimeoutMs ?? 75_000, () => this.#lost(generation));
      if (message.type === 'heartbeat') return;
      if (message.type === 'ready') {
        this.#attempts = 0;
        this.#setStatus('open');
      }
      const heard: LiveEvent =
        message.type === 'poke' && message.space !== undefined
          ? { type: 'poke', cursor: message.cursor, space: message.space }
          : { type: message.type, cursor: message.cursor };
      this.#events.emit(heard);
    };
    socket.onerror = () => undefined;
    socket.onclose = (event) => {
      if (generation !== this.#generation) return;
      this.#socket = null;
      if (event.code === LIVE_CLOSE.UNSUPPORTED_PROTOCOL) {
        this.#teardown();
        this.#setStatus('failed');
        return;
      }
      if (event.code === LIVE_CLOSE.TOKEN_EXPIRED || event.code === LIVE_CLOSE.UNAUTHORIZED) this.#forceRefresh = true;
      // An expiry is routine: reconnect at once with a fresh token instead of backing off.
      this.#lost(generation, event.code === LIVE_CLOSE.TOKEN_EXPIRED ? 0 : undefined);
    };
  }

  #lost(generation: number, delayMs?: number): void {
    if (generation !== this.#generation) return;
    this.#teardown();
    this.#attempts++;
    const delay =
      delayMs ??
      backoffDelay(this.#attempts, this.#options.baseDelayMs ?? 1000, this.#options.maxDelayMs ?? 30_000, this.#random);
    const next = this.#generation;
    this.#arm(delay, () => {
      if (next === this.#generation) void this.#connect();
    });
    this.#setStatus('waiting');
  }

  #arm(ms: number, fn: () => void): void {
    if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = null;
      fn();
    }, ms);
  }

  #teardown(): void {
    this.#generation++;
    if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
    this.#timer = null;
    const socket = this.#socket;
    this.#socket = null;
    if (socket) {
      socket.onopen = null;
      socket.onmessage = null;
      socket.onclose = null;
      try {
        socket.close(1000, 'Client closed');
      } catch {
        // Closing a socket that never opened throws on some platforms; it is gone either way.
      }
    }
  }

  #setStatus(status: LiveStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    this.#statuses.emit(status);
  }
}
