import { SyncError } from '../errors.js';

// Method syntax makes the parameter bivariant, so platform sockets whose handlers take richer
// event types (the DOM's MessageEvent, ws's MessageEvent) still fit.
type Handler<E> = { handle(event: E): void }['handle'];

/**
 * The slice of the WebSocket API the live channel uses. React Native's and browsers' global
 * `WebSocket` and Node's `ws` package all fit it.
 */
export interface WebSocketLike {
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** Opens a WebSocket to `url`; injectable so Node (which has no global one) can pass `ws`. */
export type WebSocketFactory = (url: string) => WebSocketLike;

/** The given factory, or one over the platform's global `WebSocket`. */
export function resolveWebSocketFactory(factory: WebSocketFactory | undefined): WebSocketFactory {
  if (factory) return factory;
  const Global = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  if (typeof Global !== 'function') {
    throw new SyncError(
      'VALIDATION_ERROR',
      "No global WebSocket on this platform; pass `webSocket: (url) => new WebSocket(url)` using the 'ws' package",
    );
  }
  return (url) => new Global(url);
}

/**
 * The live channel's URL for a server base URL: `https://h/api` → `wss://h/api/v1/live`.
 *
 * @example
 * liveUrlFrom('http://127.0.0.1:8787'); // 'ws://127.0.0.1:8787/v1/live'
 */
export function liveUrlFrom(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '').replace(/^http/i, 'ws')}/v1/live`;
}

/**
 * Reconnect delay for attempt `attempt` (1-based): exponential from `baseMs`, capped at `maxMs`,
 * then "equal jitter" (between half and all of it), so a server restart does not bring every
 * client back in the same millisecond, and no client waits longer than `maxMs`.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  const unit = Math.min(Math.max(random(), 0), 1);
  return Math.round(exponential / 2 + (unit * exponential) / 2);
}
