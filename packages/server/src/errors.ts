import { ERROR_META, type ErrorCode } from '@ferry/protocol';

/** What an {@link HttpError} carries besides its status. */
export interface HttpErrorOptions {
  code: ErrorCode;
  message: string;
  cause?: unknown;
}

/**
 * The one error a route throws to answer with a 4xx/5xx. The central error handler renders it
 * as `{ error: { code, message, retryable } }`; `cause` is logged, never sent.
 *
 * @example
 * throw new HttpError(400, { code: 'UNKNOWN_ENTITY_TYPE', message: 'Entity type "todo" is not declared' });
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly status: number;
  readonly code: ErrorCode;

  constructor(status: number, options: HttpErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.code = options.code;
  }

  /** Whether a client may retry the same request unchanged. */
  get retryable(): boolean {
    return ERROR_META[this.code].retryable;
  }

  /** An error with the status that goes with `code` in `ERROR_META`. */
  static of(code: ErrorCode, message: string, cause?: unknown): HttpError {
    return new HttpError(ERROR_META[code].status, { code, message, cause });
  }
}

/** A server schema file or object that cannot be used; the message names the problem. */
export class SchemaError extends Error {
  override readonly name = 'SchemaError';
}
