import { ERROR_META, type ErrorCode } from '@ferry/protocol';
import { codeForStatus, SyncError, SyncErrorCode } from '../errors.js';

/** An error as the server sends it: in an error body, or per change in a push or batch result. */
export interface WireError {
  code: string;
  message: string;
  retryable: boolean;
}

/**
 * Turns a server-reported error (`{ code, message, retryable }`) into a {@link SyncError}.
 *
 * The server's `retryable` wins over the category's default, because the protocol says clients
 * decide from `code` and `retryable`, not from the HTTP status. The server's code is kept as
 * `serverCode`; the category comes from the status that goes with that code.
 *
 * @example
 * fromWireError({ code: 'UNKNOWN_ENTITY_TYPE', message: 'no type "x"', retryable: false }, 'c1');
 * // SyncError { code: 'VALIDATION_ERROR', serverCode: 'UNKNOWN_ENTITY_TYPE', changeId: 'c1', retryable: false }
 */
export function fromWireError(
  wire: Partial<WireError> | undefined,
  changeId?: string,
  extra: { status?: number; retryAfterMs?: number; cause?: unknown } = {},
): SyncError {
  const serverCode = typeof wire?.code === 'string' ? wire.code : undefined;
  const message =
    typeof wire?.message === 'string' && wire.message !== ''
      ? wire.message
      : `The server rejected the change${serverCode ? ` (${serverCode})` : ''} without a message`;
  return new SyncError(categoryOfServerCode(serverCode, extra.status), message, {
    ...(typeof wire?.retryable === 'boolean' ? { retryable: wire.retryable } : {}),
    ...(serverCode !== undefined ? { serverCode } : {}),
    ...(changeId !== undefined ? { changeId } : {}),
    ...(extra.status !== undefined ? { status: extra.status } : {}),
    ...(extra.retryAfterMs !== undefined ? { retryAfterMs: extra.retryAfterMs } : {}),
    ...(extra.cause !== undefined ? { cause: extra.cause } : {}),
  });
}

/** True when `code` is one of the server's wire codes or one of the client's categories. */
export function isKnownErrorCode(code: unknown): code is string {
  return typeof code === 'string' && (Object.hasOwn(ERROR_META, code) || Object.hasOwn(SyncErrorCode, code));
}

function categoryOfServerCode(code: string | undefined, status: number | undefined): SyncErrorCode {
  // A fake RemoteAPI (tests, simulator) may already speak the client's categories.
  if (code !== undefined && Object.hasOwn(SyncErrorCode, code)) return code as SyncErrorCode;
  if (code !== undefined && Object.hasOwn(ERROR_META, code)) return codeForStatus(ERROR_META[code as ErrorCode].status);
  if (status !== undefined) return codeForStatus(status);
  return SyncErrorCode.UNKNOWN_ERROR;
}
