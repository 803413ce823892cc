/**
 * Errors of the client engine. Every error the engine surfaces is a {@link SyncError} with a
 * typed `code` and `retryable`; the original error rides along as the standard `cause`.
 */

/** The error categories, with `RATE_LIMITED` (a 429 is retryable, but only after a wait). */
export const SyncErrorCode = {
  NETWORK_ERROR: 'NETWORK_ERROR',
  SERVER_ERROR: 'SERVER_ERROR',
  AUTH_ERROR: 'AUTH_ERROR',
  CONFLICT_ERROR: 'CONFLICT_ERROR',
  VALIDATION_ERROR: 'VALIDATION_ERROR',
  RATE_LIMITED: 'RATE_LIMITED',
  PROTOCOL_ERROR: 'PROTOCOL_ERROR',
  UNKNOWN_ERROR: 'UNKNOWN_ERROR',
} as const;
export type SyncErrorCode = (typeof SyncErrorCode)[keyof typeof SyncErrorCode];

/** Options of a {@link SyncError}. */
export interface SyncErrorOptions {
  retryable?: boolean;
  cause?: unknown;
  /** HTTP status, when the error came from a response. */
  status?: number;
  /** The server's own error code (`UNKNOWN_ENTITY_TYPE`, ...), when it sent one. */
  serverCode?: string;
  /** How long the server asked us to wait (`Retry-After`), in ms. */
  retryAfterMs?: number;
  /** The change this error belongs to, when it belongs to one. */
  changeId?: string;
}

/** A categorised sync error. `originalError` is another name for `cause`, kept for older callers. */
export class SyncError extends Error {
  override name = 'SyncError';
  readonly code: SyncErrorCode;
  readonly retryable: boolean;
  readonly status?: number;
  readonly serverCode?: string;
  readonly retryAfterMs?: number;
  readonly changeId?: string;

  constructor(code: SyncErrorCode, message: string, options: SyncErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? DEFAULT_RETRYABLE[code];
    if (options.status !== undefined) this.status = options.status;
    if (options.serverCode !== undefined) this.serverCode = options.serverCode;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options.changeId !== undefined) this.changeId = options.changeId;
  }

  /** The error this one was made from (the same as `cause`). */
  get originalError(): unknown {
    return this.cause;
  }
}

const DEFAULT_RETRYABLE: Readonly<Record<SyncErrorCode, boolean>> = {
  NETWORK_ERROR: true,
  SERVER_ERROR: true,
  AUTH_ERROR: false,
  CONFLICT_ERROR: false,
  VALIDATION_ERROR: false,
  RATE_LIMITED: true,
  PROTOCOL_ERROR: false,
  UNKNOWN_ERROR: true,
};

/** The category of an HTTP status; the single source for transport and error handler. */
export function codeForStatus(status: number): SyncErrorCode {
  if (status === 401 || status === 403) return SyncErrorCode.AUTH_ERROR;
  if (status === 409) return SyncErrorCode.CONFLICT_ERROR;
  if (status === 426) return SyncErrorCode.PROTOCOL_ERROR;
  if (status === 429) return SyncErrorCode.RATE_LIMITED;
  if (status === 408) return SyncErrorCode.NETWORK_ERROR;
  if (status >= 500) return SyncErrorCode.SERVER_ERROR;
  if (status >= 400) return SyncErrorCode.VALIDATION_ERROR;
  return SyncErrorCode.UNKNOWN_ERROR;
}

/** A non-2xx response. Thrown by the HTTP transport. */
export class HttpError extends SyncError {
  override name = 'HttpError';

  constructor(status: number, message: string, options: Omit<SyncErrorOptions, 'status'> = {}) {
    super(codeForStatus(status), message, { ...options, status });
  }
}

/** The request never got a response: connection refused or reset, DNS, offline, or timeout. */
export class NetworkError extends SyncError {
  override name = 'NetworkError';

  constructor(message: string, options: SyncErrorOptions = {}) {
    super(SyncErrorCode.NETWORK_ERROR, message, options);
  }
}

/** The request took longer than its timeout and was aborted. */
export class TimeoutError extends NetworkError {
  override name = 'TimeoutError';
}

/** Turns any caught value into an `Error`. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === 'string') return new Error(value);
  try {
    return new Error(JSON.stringify(value));
  } catch {
    return new Error(String(value));
  }
}
