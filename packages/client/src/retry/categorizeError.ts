import { codeForStatus, SyncError, SyncErrorCode } from '../errors.js';
import { fromWireError, isKnownErrorCode } from './fromWireError.js';
import { parseRetryAfter } from './parseRetryAfter.js';

/** Node system error codes (and undici's) that mean the request never got an answer. */
const NETWORK_SYSTEM_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/**
 * What `fetch` rejects with when there is no response, per platform. A `TypeError` with any other
 * message is a bug in our code, not a network failure, and must not be called one.
 */
const FETCH_TYPE_ERROR_MESSAGES = [
  /^Network request failed$/i, // React Native
  /^fetch failed$/i, // Node (undici)
  /^Failed to fetch$/i, // Chromium
  /^NetworkError when attempting to fetch resource\.?$/i, // Firefox
  /^Load failed$/i, // Safari
  /^Network request timed out$/i, // React Native on iOS
];

/**
 * A 4xx/5xx status written as a number of its own: not part of an id (`todo-500`, `v1.401`, `a/503`).
 * Message patterns are a fallback for foreign errors only (a user's `RemoteAPI` that throws
 * `new Error('401 Unauthorized')`), so they are strict rather than clever.
 */
const STATUS_IN_MESSAGE = /(?<![\w./:#-])([45]\d\d)(?![\w./-])/;

const MESSAGE_PATTERNS: ReadonlyArray<readonly [RegExp, SyncErrorCode]> = [
  [
    /\bnetwork\b|\btimed? ?out\b|\bECONN(REFUSED|RESET|ABORTED)\b|\bETIMEDOUT\b|\bENOTFOUND\b|\bEAI_AGAIN\b|\bsocket hang up\b|\bfetch failed\b|\bfailed to fetch\b|\boffline\b/i,
    SyncErrorCode.NETWORK_ERROR,
  ],
  [/\bunauthori[sz]ed\b|\bforbidden\b|\bunauthenticated\b/i, SyncErrorCode.AUTH_ERROR],
  [/\btoo many requests\b|\brate[- ]limit/i, SyncErrorCode.RATE_LIMITED],
  [/\bconflict\b/i, SyncErrorCode.CONFLICT_ERROR],
  [
    /\binternal server error\b|\bservice unavailable\b|\bbad gateway\b|\bgateway time-?out\b/i,
    SyncErrorCode.SERVER_ERROR,
  ],
  [/\bbad request\b|\bvalidation\b|\bunprocessable\b/i, SyncErrorCode.VALIDATION_ERROR],
];

const DEFAULT_MESSAGES: Readonly<Record<SyncErrorCode, string>> = {
  NETWORK_ERROR: 'Network connection failed',
  SERVER_ERROR: 'Server temporarily unavailable',
  AUTH_ERROR: 'Authentication failed',
  CONFLICT_ERROR: 'Data conflict detected',
  VALIDATION_ERROR: 'Invalid data',
  RATE_LIMITED: 'Too many requests',
  PROTOCOL_ERROR: 'Unsupported protocol version',
  UNKNOWN_ERROR: 'Unknown error',
};

/**
 * Categorises any caught value as a {@link SyncError}.
 *
 * Decided from the error's type and HTTP status first, and only then, for foreign errors that
 * carry nothing else, from message patterns:
 *
 * 1. a `SyncError` is returned as it is (categorising is idempotent);
 * 2. a server error shape `{ code, message, retryable }` (or `{ error: { ... } }`) keeps the
 *    server's code and retryability;
 * 3. a numeric `status`, `statusCode` or `response.status` goes through `codeForStatus`;
 * 4. fetch's no-response `TypeError`s, `AbortError`, `TimeoutError` and Node system errors
 *    (`ECONNREFUSED`, ... also as the `cause` of `fetch failed`) are `NETWORK_ERROR`;
 * 5. a 4xx/5xx number or a known phrase in the message;
 * 6. else `UNKNOWN_ERROR`, retryable.
 *
 * `Retry-After` comes from a `retryAfterMs` field or a `Retry-After` header on an attached
 * response. The result's `originalError` is the input (except in case 1, where it stays the
 * SyncError's own cause).
 *
 * @param now the current time in ms, to turn a `Retry-After` HTTP-date into a delay.
 */
export function categorizeError(error: unknown, now: number = Date.now()): SyncError {
  if (error instanceof SyncError) return error;

  const retryAfterMs = retryAfterOf(error, now);
  const status = statusOf(error);
  const extra = {
    cause: error,
    ...(status !== undefined ? { status } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };

  const wire = wireErrorOf(error);
  if (wire) return fromWireError(wire, undefined, extra);

  const message = messageOf(error);
  if (status !== undefined) {
    const code = codeForStatus(status);
    return new SyncError(code, message || `${DEFAULT_MESSAGES[code]} (HTTP ${status})`, extra);
  }

  if (isNetworkFailure(error)) {
    return new SyncError(SyncErrorCode.NETWORK_ERROR, message || DEFAULT_MESSAGES.NETWORK_ERROR, extra);
  }

  const code = codeFromMessage(message);
  return new SyncError(code, message || DEFAULT_MESSAGES[code], extra);
}

function codeFromMessage(message: string): SyncErrorCode {
  if (message === '') return SyncErrorCode.UNKNOWN_ERROR;
  const status = STATUS_IN_MESSAGE.exec(message)?.[1];
  if (status !== undefined) return codeForStatus(Number(status));
  for (const [pattern, code] of MESSAGE_PATTERNS) if (pattern.test(message)) return code;
  return SyncErrorCode.UNKNOWN_ERROR;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isHttpErrorStatus(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 400 && value <= 599;
}

function statusOf(error: unknown): number | undefined {
  if (!isObject(error)) return undefined;
  if (isHttpErrorStatus(error.status)) return error.status;
  if (isHttpErrorStatus(error.statusCode)) return error.statusCode;
  const response = error.response;
  if (isObject(response) && isHttpErrorStatus(response.status)) return response.status;
  return undefined;
}

function wireErrorOf(error: unknown): { code: string; message: string; retryable: boolean } | undefined {
  if (!isObject(error)) return undefined;
  const candidate = isObject(error.error) ? error.error : error;
  if (!isKnownErrorCode(candidate.code) || typeof candidate.retryable !== 'boolean') return undefined;
  return {
    code: candidate.code,
    message: typeof candidate.message === 'string' ? candidate.message : '',
    retryable: candidate.retryable,
  };
}

function messageOf(error: unknown): string {
  if (typeof error === 'string') return error;
  if (isObject(error) && typeof error.message === 'string') return error.message;
  return '';
}

function isNetworkFailure(error: unknown): boolean {
  // Walk the cause chain: Node's fetch hides ECONNREFUSED in `cause` of a TypeError('fetch failed').
  let current: unknown = error;
  for (let depth = 0; depth < 5 && isObject(current); depth++) {
    const { name, code, message } = current;
    if (name === 'AbortError' || name === 'TimeoutError') return true;
    if (typeof code === 'string' && NETWORK_SYSTEM_CODES.has(code)) return true;
    if (current instanceof TypeError && typeof message === 'string') {
      if (FETCH_TYPE_ERROR_MESSAGES.some((pattern) => pattern.test(message))) return true;
    }
    current = current.cause;
  }
  return false;
}

function retryAfterOf(error: unknown, now: number): number | undefined {
  if (!isObject(error)) return undefined;
  if (typeof error.retryAfterMs === 'number' && Number.isFinite(error.retryAfterMs) && error.retryAfterMs >= 0) {
    return error.retryAfterMs;
  }
  const response = error.response;
  const headers = isObject(response) ? response.headers : error.headers;
  return parseRetryAfter(headerOf(headers, 'retry-after'), now);
}

function headerOf(headers: unknown, name: string): string | undefined {
  if (!isObject(headers)) return undefined;
  // A fetch `Headers` (or anything like it) is case-insensitive already.
  if (typeof headers.get === 'function') {
    const value: unknown = (headers.get as (key: string) => unknown).call(headers, name);
    return typeof value === 'string' ? value : undefined;
  }
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    if (typeof value === 'string' || typeof value === 'number') return String(value);
    if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  }
  return undefined;
}
