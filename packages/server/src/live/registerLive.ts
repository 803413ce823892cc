import { performance } from 'node:perf_hooks';
import fastifyWebsocket from '@fastify/websocket';
import { isSpaceId, LIVE_CLOSE, LIVE_MAX_PAYLOAD, parseLiveHello, SUPPORTED_PROTOCOL_VERSIONS } from '@ferry/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import type { VerifiedToken } from '../auth/createTokenVerifier.js';
import { HttpError } from '../errors.js';
import { type MembershipOptions, tokenRoles } from '../spaces/SpaceAccess.js';
import type { ServerStorage } from '../storage/ServerStorage.js';
import { LiveHub } from './LiveHub.js';
import { SpaceFanOut } from './SpaceFanOut.js';

/** Tuning of the live channel; every value has a safe default. */
export interface LiveOptions {
  /** Ping (and heartbeat message) period; a peer silent for two periods is dropped. Default 30 000 ms. */
  heartbeatMs?: number;
  /** How long a new connection may take to send its hello. Default 10 000 ms. */
  helloTimeoutMs?: number;
  /** Largest incoming message, in bytes. Default {@link LIVE_MAX_PAYLOAD}. */
  maxPayload?: number;
}

/** What the live channel needs from the server. */
export interface LiveDeps {
  storage: ServerStorage;
  checkToken: (header: string | undefined) => Promise<VerifiedToken>;
  now: () => number;
  /** Where shared-space membership comes from (default: Ferry-managed). */
  membership?: Required<MembershipOptions>;
}

// setTimeout fires at once for delays past 2^31-1 ms; long-lived tokens are re-armed in steps.
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Mounts `GET /v1/live`: the WebSocket that pokes clients when their scope's data commits.
 * Outside the `/v1` protocol-header guard, because WebSocket clients cannot send headers:
 * the version and token arrive in the hello message instead (see `@ferry/protocol`'s `live.ts`).
 * Returns the hub (connection counts, for tests and metrics).
 */
export async function registerLive(app: FastifyInstance, deps: LiveDeps, options: LiveOptions = {}): Promise<LiveHub> {
  const hub = new LiveHub(options.heartbeatMs ?? 30_000, deps.now);
  const helloTimeoutMs = options.helloTimeoutMs ?? 10_000;
  await app.register(fastifyWebsocket, { options: { maxPayload: options.maxPayload ?? LIVE_MAX_PAYLOAD } });
  const membership = deps.membership ?? { source: 'ferry', claim: 'spaces' };
  const fanOut = new SpaceFanOut(hub, deps.storage);
  const unsubscribe = deps.storage.onCommit((scope, seq) => {
    if (!isSpaceId(scope)) hub.poke(scope, seq);
    else if (membership.source === 'token') hub.pokeTokenSpace(scope, seq);
    else fanOut.commit(scope, seq);
  });
  app.addHook('onClose', async () => {
    unsubscribe();
    hub.close(LIVE_CLOSE.GOING_AWAY, 'Server shutting down');
  });

  const liveConnection = (socket: WebSocket, request: FastifyRequest) => {
    let phase: 'hello' | 'checking' | 'ready' | 'closed' = 'hello';
    let expiryTimer: ReturnType<typeof setTimeout> | undefined;
    // The upgrade is answered by ws, so no onResponse hook writes its line: it is written here,
    // once, when the handshake settles (ready, refused, or the peer left), with ids and codes only.
    const upgradedAt = performance.now();
    let logged = false;
    const logOnce = (fields: { live: 'ready' | 'refused' | 'closed'; user?: string; closeCode?: number }) => {
      if (logged) return;
      logged = true;
      const ms = Math.round((performance.now() - upgradedAt) * 10) / 10;
      request.log.info({ method: 'GET', route: '/v1/live', status: 101, ms, ...fields }, 'request');
    };
    const close = (code: number, reason: string) => {
      if (phase === 'closed') return;
      if (phase !== 'ready') logOnce({ live: 'refused', closeCode: code });
      phase = 'closed';
      socket.close(code, reason);
    };
    const helloTimer = setTimeout(
      () => close(LIVE_CLOSE.HELLO_TIMEOUT, `No hello within ${helloTimeoutMs} ms`),
      helloTimeoutMs,
    );
    socket.on('close', (code: number) => {
      logOnce({ live: 'closed', closeCode: code });
      phase = 'closed';
      clearTimeout(helloTimer);
      clearTimeout(expiryTimer);
    });
    // A reset from the peer surfaces as an error before the close; the close handler cleans up.
    socket.on('error', () => undefined);

    const armExpiry = (expiresAt: number) => {
      const delay = expiresAt - deps.now();
      if (delay <= 0) return close(LIVE_CLOSE.TOKEN_EXPIRED, 'Token expired; reconnect with a fresh token');
      expiryTimer = setTimeout(() => armExpiry(expiresAt), Math.min(delay, MAX_TIMER_MS));
    };

    socket.on('message', (data: RawData) => {
      if (phase !== 'hello') {
        // The client speaks once; anything more is a broken or hostile peer.
        if (phase !== 'closed') close(LIVE_CLOSE.BAD_MESSAGE, 'Unexpected message after hello');
        return;
      }
      phase = 'checking';
      clearTimeout(helloTimer);
      void handshake(socket, rawText(data)).catch(() => close(1011, 'Internal error'));
    });

    const handshake = async (ws: WebSocket, text: string) => {
      const hello = parseLiveHello(text);
      if (!hello) return close(LIVE_CLOSE.BAD_MESSAGE, 'Expected {"type":"hello","protocolVersion","token"}');
      if (!SUPPORTED_PROTOCOL_VERSIONS.includes(hello.protocolVersion)) {
        const supported = SUPPORTED_PROTOCOL_VERSIONS.join(', ');
        return close(
          LIVE_CLOSE.UNSUPPORTED_PROTOCOL,
          `Protocol ${hello.protocolVersion} unsupported; use ${supported}`,
        );
      }
      let token: VerifiedToken;
      let tokenSpaces: Set<string> | null = null;
      try {
        token = await deps.checkToken(`Bearer ${hello.token}`);
        if (membership.source === 'token') tokenSpaces = new Set(tokenRoles(token.claims, membership.claim).keys());
      } catch {
        return close(LIVE_CLOSE.UNAUTHORIZED, 'Invalid or expired token');
      }
      if (phase !== 'checking') return;
      // Joined before the cursor is read: a commit in between pokes rather than slipping past.
      hub.add(ws, token.scope, token.expiresAt, tokenSpaces);
      if (membership.source === 'ferry') await fanOut.join(token.scope);
      const cursor = await deps.storage.currentSeq(token.scope);
      if (phase !== 'checking') return;
      phase = 'ready';
      logOnce({ live: 'ready', user: token.scope });
      ws.send(JSON.stringify({ type: 'ready', cursor }));
      // The heartbeat re-checks expiry too (on the server's clock); this timer makes it prompt.
      armExpiry(token.expiresAt);
    };
  };

  app.route({
    method: 'GET',
    url: '/v1/live',
    // Without these, the plugin answers a plain GET or HEAD with an empty 404 of its own.
    exposeHeadRoute: false,
    handler: async () => {
      throw HttpError.of(
        'BAD_REQUEST',
        'GET /v1/live is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket)',
      );
    },
    wsHandler: (socket, request) => liveConnection(socket, request),
  });
  return hub;
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}
