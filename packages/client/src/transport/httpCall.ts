import {
  DEVICE_HEADER,
  type DeviceReport,
  describeIssues,
  ErrorBodySchema,
  formatDeviceReport,
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
} from '@ferry/protocol';
import * as v from 'valibot';
import { HttpError, NetworkError, SyncError, SyncErrorCode, TimeoutError } from '../errors.js';
import { parseRetryAfter } from '../retry/parseRetryAfter.js';
import { AbortError } from './AbortError.js';

/** What a {@link TokenProvider} is asked for. */
export interface TokenRequest {
  /**
   * True when the server has just refused the token (HTTP 401/403, or the live channel closed
   * for an expired token): return a NEW token (refresh it, or sign in), not the cached one.
   */
  forceRefresh: boolean;
}

/**
 * Gives the bearer token for the next request; `null`/`undefined` sends none. Called before
 * every request; after an auth failure it is asked with `{ forceRefresh: true }` once.
 *
 * @example
 * const getToken: TokenProvider = async ({ forceRefresh }) =>
 *   forceRefresh ? (await auth.refresh()).accessToken : auth.accessToken;
 */
export type TokenProvider = (request: TokenRequest) => string | null | undefined | Promise<string | null | undefined>;

/** Options of an {@link HttpRemoteAPI}. */
export interface HttpRemoteAPIOptions {
  /** Where the Ferry server lives, e.g. `https://sync.example.com` (a path prefix is kept). */
  baseUrl: string;
  /** Called before every request, so a refreshed token is picked up without rebuilding the API. */
  getToken?: TokenProvider;
  /** The fetch to use; the simulator and tests inject one. Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Per-request limit in ms, covering the response body too. Defaults to {@link DEFAULT_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Extra headers sent on every request (the protocol and content headers always win). */
  headers?: Record<string, string>;
  /** Wall clock in ms, used to turn an HTTP-date `Retry-After` into a delay. */
  now?: () => number;
  /**
   * What the device tells the server about itself (outbox depth, dead letters, last error code,
   * versions), sent as the `ferry-device` header on sync requests (push, pull, batch, changes)
   * so an operator's inspector shows it without a round trip of its own. Counts and codes only.
   */
  deviceReport?: () => DeviceReport | null | undefined;
}

/** Requests that carry the device report: the ones a device sends anyway while syncing. */
const SYNC_PATHS = new Set(['/v1/push', '/v1/pull', '/v1/batch', '/v1/changes']);

/** Default per-request timeout: long enough for a slow mobile link, short enough to notice a dead one. */
export const DEFAULT_TIMEOUT_MS = 15_000;

/** The HTTP methods the protocol uses. */
export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** One HTTP request as {@link HttpCaller.send} takes it. */
export interface Call {
  method: Method;
  /** Path under the base URL, segments already encoded. */
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** The body already serialised (it wins over `body`). */
  json?: string;
  /** Headers of this request alone (the protocol, auth and content headers win). */
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
}

/**
 * The request machinery under {@link HttpRemoteAPI}: headers (protocol version, bearer token,
 * device report), one timeout covering the whole response, typed failures, and response
 * validation. One per API object; it holds the token-refresh flag a 401/403 sets.
 */
export class HttpCaller {
  readonly #baseUrl: string;
  readonly #getToken: TokenProvider | undefined;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  readonly #headers: Record<string, string>;
  readonly #deviceReport: (() => DeviceReport | null | undefined) | undefined;
  readonly #now: () => number;
  /** Set by a 401/403 answer: the next request asks the provider for a fresh token. */
  #forceRefresh = false;

  constructor(options: HttpRemoteAPIOptions) {
    if (!/^https?:\/\//i.test(options.baseUrl)) {
      throw new SyncError(
        'VALIDATION_ERROR',
        `HttpRemoteAPI: baseUrl must start with http:// or https://, got "${options.baseUrl}"`,
      );
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
      throw new SyncError(
        'VALIDATION_ERROR',
        `HttpRemoteAPI: timeoutMs must be a positive number of ms, got ${timeoutMs}`,
      );
    }
    const fetchFn = options.fetch ?? globalThis.fetch;
    if (typeof fetchFn !== 'function') {
      throw new SyncError(
        'VALIDATION_ERROR',
        'HttpRemoteAPI: no global fetch on this platform; pass `fetch` in the options',
      );
    }
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#getToken = options.getToken;
    // Unbound, the platform fetch throws "Illegal invocation" in browsers.
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#timeoutMs = timeoutMs;
    this.#headers = Object.fromEntries(
      Object.entries(options.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
    );
    this.#now = options.now ?? Date.now;
    this.#deviceReport = options.deviceReport;
  }

  /** Sends one request and returns the body text of a 2xx answer; throws a typed error otherwise. */
  async send(call: Call): Promise<string> {
    const target = `${call.method} ${call.path}`;
    const external = call.signal;
    if (external?.aborted) throw cancelled(target, external);
    const headers = await this.#requestHeaders(call.json !== undefined || call.body !== undefined, call.headers);
    if (SYNC_PATHS.has(call.path)) this.#addDeviceReport(headers);
    // A token refresh can take a while; the caller may have given up meanwhile.
    if (external?.aborted) throw cancelled(target, external);

    const controller = new AbortController();
    let stoppedBy: 'timeout' | 'caller' | undefined;
    const timer = setTimeout(() => {
      stoppedBy ??= 'timeout';
      controller.abort();
    }, this.#timeoutMs);
    const onCallerAbort = () => {
      stoppedBy ??= 'caller';
      controller.abort();
    };
    external?.addEventListener('abort', onCallerAbort);
    try {
      const response = await this.#fetch(this.#url(call), {
        method: call.method,
        headers,
        body: call.json ?? (call.body === undefined ? undefined : JSON.stringify(call.body)),
        signal: controller.signal,
      });
      // The body is read under the same timer: headers followed by a stalled body is just as dead.
      const text = await response.text();
      if (!response.ok) throw this.#httpError(target, response, text);
      return text;
    } catch (error) {
      if (error instanceof SyncError) throw error;
      if (stoppedBy === 'timeout') {
        throw new TimeoutError(`${target} timed out after ${this.#timeoutMs} ms without a complete response`, {
          cause: error,
        });
      }
      if (stoppedBy === 'caller') throw cancelled(target, external, error);
      // fetch rejects only when no response arrived: refused, reset, DNS, offline, TLS.
      throw new NetworkError(`${target} could not reach the server at ${this.#baseUrl}: ${describeCause(error)}`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
      external?.removeEventListener('abort', onCallerAbort);
    }
  }

  async #requestHeaders(hasBody: boolean, own?: Record<string, string>): Promise<Record<string, string>> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.#headers, ...own };
    headers[PROTOCOL_HEADER] = String(PROTOCOL_VERSION);
    const token = await this.#token();
    if (token) headers.authorization = `Bearer ${token}`;
    if (hasBody) headers['content-type'] = 'application/json';
    return headers;
  }

  #addDeviceReport(headers: Record<string, string>): void {
    if (!this.#deviceReport) return;
    try {
      const report = this.#deviceReport();
      const value = report ? formatDeviceReport(report) : '';
      if (value !== '') headers[DEVICE_HEADER] = value;
    } catch {
      // A report is advice for operators: failing to build one must never fail a sync.
    }
  }

  async #token(): Promise<string | null | undefined> {
    if (!this.#getToken) return undefined;
    const forceRefresh = this.#forceRefresh;
    this.#forceRefresh = false;
    try {
      return await this.#getToken({ forceRefresh });
    } catch (error) {
      if (error instanceof SyncError) throw error;
      throw new SyncError(
        SyncErrorCode.AUTH_ERROR,
        `getToken() failed, so no request was sent: ${describeCause(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  #url(call: Call): string {
    // Built by hand: React Native's URLSearchParams polyfill lacks most of the standard API.
    const pairs = Object.entries(call.query ?? {}).filter((pair): pair is [string, string] => pair[1] !== undefined);
    const query = pairs.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`).join('&');
    return `${this.#baseUrl}${call.path}${query ? `?${query}` : ''}`;
  }

  #httpError(target: string, response: Response, text: string): HttpError {
    const { status } = response;
    if (status === 401 || status === 403) this.#forceRefresh = true;
    const body = v.safeParse(ErrorBodySchema, parseJson(text));
    const server = body.success ? body.output.error : undefined;
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), this.#now());
    const detail = server ? server.message : describeBody(response.statusText, text);
    const message =
      status === 426
        ? `The server does not accept Ferry protocol version ${PROTOCOL_VERSION} (${target}: ${detail}). ` +
          'Upgrade the Ferry client or the server so both speak a common protocol version.'
        : `${target} failed with HTTP ${status}: ${detail}`;
    return new HttpError(status, message, {
      ...(server && { serverCode: server.code, retryable: server.retryable }),
      ...(retryAfterMs !== undefined && { retryAfterMs }),
    });
  }

  /**
   * Parses and validates a response. `fast`, for the bulk responses, is a hand-written check
   * equivalent to `schema` that accepts the common well-formed body at a fraction of the cost;
   * whatever it does not accept goes through `schema`, which decides and explains. `expand`
   * rebuilds a compact answer's full form in place before either runs.
   */
  parse<S extends v.GenericSchema>(
    target: string,
    text: string,
    schema: S,
    fast?: (value: unknown) => v.InferOutput<S> | undefined,
    expand?: (value: unknown) => void,
  ): v.InferOutput<S> {
    const json = parseJson(text);
    if (json === undefined) {
      throw protocolError(target, `the response is not JSON: ${snippet(text) || '(empty body)'}`);
    }
    // A compact answer is rebuilt into its full form first, so both validators judge that.
    expand?.(json);
    const quick = fast?.(json);
    if (quick !== undefined) return quick;
    const result = v.safeParse(schema, json);
    if (!result.success) throw protocolError(target, describeIssues(result.issues));
    return result.output;
  }
}

/** The error for an answer that does not match the protocol: names the request and what is wrong. */
export function protocolError(target: string, problem: string): SyncError {
  return new SyncError(
    SyncErrorCode.PROTOCOL_ERROR,
    `${target} returned a response that does not match the Ferry protocol (${problem}). ` +
      'Check that baseUrl points at a Ferry server of a compatible version.',
  );
}

function cancelled(target: string, signal: AbortSignal | undefined, cause?: unknown): AbortError {
  return new AbortError(`${target} was cancelled by the caller`, { cause: cause ?? signal?.reason });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function describeBody(statusText: string, text: string): string {
  const body = snippet(text);
  if (statusText && body) return `${statusText}: ${body}`;
  return statusText || body || '(empty body)';
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

// Node's fetch hides the useful part ("ECONNREFUSED") in `cause`; React Native's says
// "Network request failed" and has none.
function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const inner = error.cause;
  const code = inner && typeof inner === 'object' && 'code' in inner ? String(inner.code) : undefined;
  return code ? `${error.message} (${code})` : error.message;
}
