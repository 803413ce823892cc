/**
 * The live-poke channel, `GET /v1/live` over WebSocket. Browsers and React Native cannot set
 * headers on a WebSocket, so the protocol version and token travel in the first message
 * instead of headers (and never in the URL, where access logs would keep them).
 *
 *   client                                   server
 *     │── open ─────────────────────────────────▶│
 *     │── { type: 'hello', protocolVersion, token } ▶│  (within helloTimeoutMs, else close 4408)
 *     │◀──────────────── { type: 'ready', cursor } ──│  (cursor: the scope's latest seq)
 *     │◀──────────────── { type: 'poke', cursor } ───│  (after every commit in the private space)
 *     │◀───────── { type: 'poke', cursor, space } ───│  (after every commit in a shared space of the user)
 *     │◀──────────────── { type: 'heartbeat' } ──────│  (every heartbeat; plus ws ping frames)
 *     │◀──────────────── close 4001 ─────────────────│  (the token expired: reconnect with a fresh one)
 *
 * A poke carries no data: it only says "pull now". A lost poke costs latency, never data,
 * because the client also pulls on every (re)connect and on its periodic interval.
 */
import { isSpaceId } from './spaces.js';

/** Largest message either side accepts on the live channel, in bytes. */
export const LIVE_MAX_PAYLOAD = 16 * 1024;

/** Application close codes of the live channel (4000–4999 are the application's range). */
export const LIVE_CLOSE = {
  /** The token expired while connected; reconnect with a fresh token. */
  TOKEN_EXPIRED: 4001,
  /** A message was not JSON or not a known message. */
  BAD_MESSAGE: 4400,
  /** The hello's token was missing or invalid. */
  UNAUTHORIZED: 4401,
  /** No hello arrived in time. */
  HELLO_TIMEOUT: 4408,
  /** The hello named a protocol version this server does not speak. */
  UNSUPPORTED_PROTOCOL: 4426,
  /** The server is shutting down; reconnect later. */
  GOING_AWAY: 1001,
} as const;

/** The first (and only) message a client sends. */
export interface LiveHello {
  type: 'hello';
  protocolVersion: number;
  token: string;
}

/** Messages the server sends. */
export type LiveServerMessage =
  | { type: 'ready'; cursor: number }
  | { type: 'poke'; cursor: number; space?: string }
  | { type: 'heartbeat' };

/** Parses a server message; `null` for anything that is not a well-formed one. */
export function parseLiveServerMessage(text: string): LiveServerMessage | null {
  const value = parseObject(text);
  if (!value) return null;
  if (value.type === 'heartbeat') return { type: 'heartbeat' };
  if (value.type === 'poke' && isSeq(value.cursor) && isSpaceId(value.space)) {
    return { type: 'poke', cursor: value.cursor, space: value.space };
  }
  if ((value.type === 'ready' || value.type === 'poke') && isSeq(value.cursor)) {
    return { type: value.type, cursor: value.cursor };
  }
  return null;
}

/** Parses a client hello; `null` for anything that is not a well-formed one. */
export function parseLiveHello(text: string): LiveHello | null {
  const value = parseObject(text);
  if (value?.type !== 'hello') return null;
  if (!Number.isInteger(value.protocolVersion) || typeof value.token !== 'string') return null;
  return { type: 'hello', protocolVersion: value.protocolVersion as number, token: value.token };
}

function isSeq(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
