import { NetworkError, type SyncErrorOptions } from '../errors.js';

/**
 * The caller cancelled the request through its `AbortSignal` (`SyncManager.stop()`, a screen
 * unmounting). Named `AbortError` like the platform's own, so `error.name === 'AbortError'`
 * checks keep working; not retryable, because nobody wants the answer any more.
 */
export class AbortError extends NetworkError {
  override name = 'AbortError';

  constructor(message: string, options: Omit<SyncErrorOptions, 'retryable'> = {}) {
    super(message, { ...options, retryable: false });
  }
}
