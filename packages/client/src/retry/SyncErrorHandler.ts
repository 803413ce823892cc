import { SyncError } from '../errors.js';
import { withoutUndefined } from '../util/withoutUndefined.js';
import { raceAbort, throwIfAborted } from './abort.js';
import { categorizeError } from './categorizeError.js';
import { defaultSleep, type Sleep } from './sleep.js';

/** How {@link SyncErrorHandler.executeWithRetry} backs off. All times in ms. */
export interface RetryConfig {
  /** Retries after the first attempt (so at most `maxRetries + 1` attempts). */
  maxRetries: number;
  /** Delay before the first retry. */
  baseDelay: number;
  /** Cap on the computed backoff delay (jitter included). */
  maxDelay: number;
  /** Each retry waits `backoffMultiplier` times longer than the one before. */
  backoffMultiplier: number;
  /** Random extra wait, as a fraction of the delay: `[0, jitter * delay)`. Spreads a thundering herd. */
  jitter: number;
  /**
   * Cap on a server's `Retry-After`. It may exceed `maxDelay` (the server knows best), but a
   * broken or hostile header must not park the queue for a day.
   */
  maxRetryAfter: number;
}

/** Defaults of {@link RetryConfig}: 1 s, 2 s, 4 s, 8 s, 16 s, each plus up to 30 %. */
export const DEFAULT_RETRY_CONFIG: Readonly<RetryConfig> = {
  maxRetries: 5,
  baseDelay: 1000,
  maxDelay: 60_000,
  backoffMultiplier: 2,
  jitter: 0.3,
  maxRetryAfter: 10 * 60_000,
};

/** Options of a {@link SyncErrorHandler}: the retry policy, plus injectable time and randomness. */
export interface SyncErrorHandlerOptions extends Partial<RetryConfig> {
  /** Waits between attempts. Tests and the simulator pass a virtual one. */
  sleep?: Sleep;
  /** Source of jitter, in `[0, 1)`. */
  random?: () => number;
  /** Current time in ms, to read a `Retry-After` HTTP-date. */
  now?: () => number;
}

/** Options of one {@link SyncErrorHandler.executeWithRetry} call. */
export interface ExecuteWithRetryOptions {
  /** Stops at once: a running wait rejects, no further attempt starts. */
  signal?: AbortSignal;
  /** Overrides the handler's `maxRetries` for this operation. */
  maxRetries?: number;
}

/** An operation that gave up, as {@link SyncErrorHandler.getFailedOperations} lists it. */
export interface FailedOperation {
  operationId: string;
  error: SyncError;
  /** Retries made before giving up (0 for a non-retryable error). */
  retryCount: number;
}

/**
 * Categorises errors and retries operations with exponential backoff and jitter, honouring the
 * server's `Retry-After`. Operations that gave up stay listed until cleared, so the app can show
 * them.
 *
 * @example
 * const errorHandler = new SyncErrorHandler({ maxRetries: 3, baseDelay: 100 });
 * const config = await errorHandler.executeWithRetry(() => api.getConfig(), 'config');
 */
export class SyncErrorHandler {
  readonly #config: RetryConfig;
  readonly #sleep: Sleep;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #errorQueue = new Map<string, { error: SyncError; retryCount: number }>();

  constructor(options: SyncErrorHandlerOptions = {}) {
    const { sleep, random, now, ...config } = options;
    this.#config = { ...DEFAULT_RETRY_CONFIG, ...withoutUndefined(config) };
    validateConfig(this.#config);
    this.#sleep = sleep ?? defaultSleep;
    this.#random = random ?? Math.random;
    this.#now = now ?? Date.now;
  }

  /** The retry policy in effect. */
  get retryConfig(): Readonly<RetryConfig> {
    return this.#config;
  }

  /** Categorises any caught value; see {@link categorizeError}. */
  categorizeError(error: unknown): SyncError {
    return categorizeError(error, this.#now());
  }

  /**
   * Runs `operation`, retrying retryable failures with backoff. A non-retryable error is thrown
   * at once; after the last retry the categorised error is thrown. Either way the failure is
   * listed in {@link getFailedOperations} until the operation succeeds or is cleared.
   * An abort throws the signal's reason and records nothing: it is not a failure.
   */
  async executeWithRetry<T>(
    operation: () => Promise<T>,
    operationId: string,
    options: ExecuteWithRetryOptions = {},
  ): Promise<T> {
    const { signal } = options;
    const maxRetries = options.maxRetries ?? this.#config.maxRetries;
    for (let retryCount = 0; ; retryCount++) {
      throwIfAborted(signal);
      try {
        const result = await operation();
        this.#errorQueue.delete(operationId);
        return result;
      } catch (caught) {
        // The operation saw our own abort (e.g. fetch rejected with AbortError): stop, don't retry.
        throwIfAborted(signal);
        const error = this.categorizeError(caught);
        if (!error.retryable || retryCount >= maxRetries) {
          this.#errorQueue.set(operationId, { error, retryCount });
          throw error;
        }
        await raceAbort(this.#sleep(this.calculateDelay(retryCount + 1, error), signal), signal);
      }
    }
  }

  /**
   * Delay before retry number `retryCount` (1 for the first retry):
   * `baseDelay * backoffMultiplier^(retryCount - 1)` plus jitter, capped at `maxDelay`.
   * A server's `retryAfterMs` on `error` replaces it, capped at `maxRetryAfter` instead.
   */
  calculateDelay(retryCount: number, error?: Pick<SyncError, 'retryAfterMs'>): number {
    const { baseDelay, backoffMultiplier, jitter, maxDelay, maxRetryAfter } = this.#config;
    const retryAfter = error?.retryAfterMs;
    if (retryAfter !== undefined && Number.isFinite(retryAfter)) {
      return Math.min(Math.max(0, retryAfter), maxRetryAfter);
    }
    const delay = baseDelay * backoffMultiplier ** Math.max(0, retryCount - 1);
    // Clamp the random source: a bad injected one must not make the delay negative or huge.
    const random = Math.min(Math.max(this.#random(), 0), 1);
    return Math.min(delay + random * jitter * delay, maxDelay);
  }

  /** Operations that gave up, oldest first. */
  getFailedOperations(): FailedOperation[] {
    return Array.from(this.#errorQueue, ([operationId, { error, retryCount }]) => ({
      operationId,
      error,
      retryCount,
    }));
  }

  /**
   * Lists a failure the caller retried by other means (the sync engine retries on its own
   * schedule): {@link getFailedOperations} shows it until {@link clearError} or a success.
   */
  recordFailure(operationId: string, error: unknown, retryCount: number): void {
    // Re-inserted, so the list stays in order of the latest failure.
    this.#errorQueue.delete(operationId);
    this.#errorQueue.set(operationId, { error: this.categorizeError(error), retryCount });
  }

  /** Forgets one failed operation (the app dealt with it). */
  clearError(operationId: string): void {
    this.#errorQueue.delete(operationId);
  }

  /** Forgets every failed operation. */
  clearAllErrors(): void {
    this.#errorQueue.clear();
  }
}

function validateConfig(config: RetryConfig): void {
  const problems: string[] = [];
  if (!Number.isInteger(config.maxRetries) || config.maxRetries < 0)
    problems.push('maxRetries must be an integer >= 0');
  for (const key of ['baseDelay', 'maxDelay', 'jitter', 'maxRetryAfter'] as const) {
    if (!Number.isFinite(config[key]) || config[key] < 0) problems.push(`${key} must be a number >= 0`);
  }
  if (!Number.isFinite(config.backoffMultiplier) || config.backoffMultiplier < 1) {
    problems.push('backoffMultiplier must be a number >= 1');
  }
  if (problems.length > 0)
    throw new SyncError('VALIDATION_ERROR', `Invalid retry configuration: ${problems.join('; ')}`);
}
