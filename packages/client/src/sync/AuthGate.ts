import type { Timers } from '../signals.js';

/**
 * The engine's auth state. A 401/403 is never retried on a backoff timer:
 *
 *   ok ──AUTH_ERROR──▶ probing ──one immediate attempt; the transport asks getToken({ forceRefresh: true })
 *    ▲                  │  ▲ fails again
 *    │ any sync works   │  └──────────── paused ◀─┘  (no automatic syncs; `paused: 'auth'`)
 *    └──────────────────┘        resume(), back online or to the foreground → probing
 */
export class AuthGate {
  readonly #timers: Timers;
  readonly #probe: () => void;
  #state: 'ok' | 'probing' | 'paused' = 'ok';
  #probeTimer: unknown = null;

  /** `probe` asks the loop for the one attempt a pause allows. */
  constructor(timers: Timers, probe: () => void) {
    this.#timers = timers;
    this.#probe = probe;
  }

  /** True unless an auth failure has not been cleared by a sync that worked. */
  get ok(): boolean {
    return this.#state === 'ok';
  }

  /** Leaving a pause: the next attempt is a probe. */
  resume(): void {
    if (this.#state !== 'ok') this.#state = 'probing';
  }

  /** A sync got through: the token works. */
  succeeded(): void {
    this.#state = 'ok';
  }

  /** A sync failed with AUTH_ERROR: first time, one probe at once; a failed probe pauses. */
  failed(): void {
    if (this.#state !== 'ok') {
      this.#state = 'paused';
      return;
    }
    this.#state = 'probing';
    this.#probeTimer = this.#timers.setTimeout(() => {
      this.#probeTimer = null;
      if (this.#state === 'probing') this.#probe();
    }, 0);
  }

  stop(): void {
    if (this.#probeTimer !== null) this.#timers.clearTimeout(this.#probeTimer);
    this.#probeTimer = null;
  }
}
