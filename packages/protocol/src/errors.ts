/**
 * Error codes on the wire. Every 4xx/5xx body is `{ error: { code, message, retryable } }`.
 * The HTTP status is advisory for proxies; clients decide from `code` and `retryable`.
 */
export const ErrorCode = {
  BAD_REQUEST: 'BAD_REQUEST',
  VALIDATION_ERROR: 'VALIDATION_ERROR',
  UNKNOWN_ENTITY_TYPE: 'UNKNOWN_ENTITY_TYPE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  TOO_MANY_CHANGES: 'TOO_MANY_CHANGES',
  HEADERS_TOO_LARGE: 'HEADERS_TOO_LARGE',
  REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  RESET_REQUIRED: 'RESET_REQUIRED',
  UNSUPPORTED_PROTOCOL: 'UNSUPPORTED_PROTOCOL',
  RATE_LIMITED: 'RATE_LIMITED',
  INTERNAL: 'INTERNAL',
  UNAVAILABLE: 'UNAVAILABLE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The HTTP status and retryability that go with each code. */
export const ERROR_META: Readonly<Record<ErrorCode, { status: number; retryable: boolean }>> = {
  BAD_REQUEST: { status: 400, retryable: false },
  VALIDATION_ERROR: { status: 400, retryable: false },
  UNKNOWN_ENTITY_TYPE: { status: 400, retryable: false },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false },
  PAYLOAD_TOO_LARGE: { status: 413, retryable: false },
  TOO_MANY_CHANGES: { status: 413, retryable: false },
  HEADERS_TOO_LARGE: { status: 431, retryable: false },
  REQUEST_TIMEOUT: { status: 408, retryable: true },
  UNAUTHORIZED: { status: 401, retryable: false },
  FORBIDDEN: { status: 403, retryable: false },
  NOT_FOUND: { status: 404, retryable: false },
  CONFLICT: { status: 409, retryable: false },
  RESET_REQUIRED: { status: 410, retryable: false },
  UNSUPPORTED_PROTOCOL: { status: 426, retryable: false },
  RATE_LIMITED: { status: 429, retryable: true },
  INTERNAL: { status: 500, retryable: true },
  UNAVAILABLE: { status: 503, retryable: true },
};

/** Body of every error response. */
export interface ErrorBody {
  error: { code: ErrorCode | string; message: string; retryable: boolean };
}

/** Builds an error body with the code's default retryability. */
export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message, retryable: ERROR_META[code].retryable } };
}
