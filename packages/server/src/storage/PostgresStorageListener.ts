import type pg from 'pg';

/** The NOTIFY channel every Ferry process listens on. */
export const COMMIT_CHANNEL = 'ferry_commit';

/** NOTIFY payloads are limited to 8000 bytes; a commit whose scope is longer is not announced. */
export const MAX_PAYLOAD_BYTES = 7900;

type CommitListener = (scope: string, seq: number) => void;

/** Encodes a commit for NOTIFY, or null when it would not fit. */
export function commitPayload(scope: string, seq: number): string | null {
  const payload = JSON.stringify([scope, seq]);
  return Buffer.byteLength(payload) <= MAX_PAYLOAD_BYTES ? payload : null;
}

function parsePayload(payload: string | undefined): [string, number] | null {
  try {
    const value: unknown = JSON.parse(payload ?? '');
    if (Array.isArray(value) && typeof value[0] === 'string' && Number.isSafeInteger(value[1])) {
      return [value[0], value[1] as number];
    }
  } catch {
    // Not ours: someone else's NOTIFY on the channel. Ignore it.
  }
  return null;
}

/** Options of a {@link PostgresCommitFeed}. */
export interface CommitFeedOptions {
  /** A new, unconnected client with its own connect timeout; one per (re)connect. */
  createClient: () => pg.Client;
  /** Backoff after a lost connection: doubles from `minRetryMs` up to `maxRetryMs`. */
  minRetryMs?: number;
  maxRetryMs?: number;
  /** Reported when the listener connection fails; it keeps retrying. */
  onError?: (error: Error) => void;
}

/**
 * Commits announced by every process through LISTEN/NOTIFY, on one dedicated connection (a
 * pooled one would be handed to queries and lose the LISTEN). It connects on the first
 * subscriber and reconnects with backoff when the connection drops; commits announced while it
 * is down are not replayed, which costs a poke, never data (clients still pull on their own).
 */
export class PostgresCommitFeed {
  readonly #options: CommitFeedOptions;
  readonly #listeners = new Set<CommitListener>();
  #client: pg.Client | null = null;
  #listening: Promise<void> | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #failures = 0;
  #closed = false;
  /** Settles the `#listening` promise of a scheduled retry; close() calls it too. */
  #settleRetry: () => void = () => undefined;

  constructor(options: CommitFeedOptions) {
    this.#options = options;
  }

  /** Adds a listener (connecting on the first); returns unsubscribe. */
  subscribe(listener: CommitListener): () => void {
    this.#listeners.add(listener);
    if (this.#listening === null && !this.#closed) this.#listening = this.#connect();
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Resolves once LISTEN is in effect (after a reconnect, the new connection's). */
  async whenListening(): Promise<void> {
    for (;;) {
      const current = this.#listening;
      if (current === null) return;
      await current;
      if (current === this.#listening) return;
    }
  }

  #emit(scope: string, seq: number): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(scope, seq);
      } catch {
        // A failing listener must not stop the others or the feed.
      }
    }
  }

  async #connect(): Promise<void> {
    const client = this.#options.createClient();
    this.#client = client;
    client.on('notification', (message) => {
      if (message.channel !== COMMIT_CHANNEL) return;
      const commit = parsePayload(message.payload);
      if (commit) this.#emit(commit[0], commit[1]);
    });
    const lost = (error?: Error) => {
      if (this.#client !== client) return;
      this.#client = null;
      client.end().catch(() => undefined);
      if (error) this.#options.onError?.(error);
      this.#scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    try {
      await client.connect();
      await client.query(`LISTEN ${COMMIT_CHANNEL}`);
      this.#failures = 0;
    } catch (error) {
      lost(error as Error);
      // whenListening() waits for the retry that lost() scheduled.
    }
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#retryTimer !== null) return;
    const min = this.#options.minRetryMs ?? 100;
    const delay = Math.min(this.#options.maxRetryMs ?? 5000, min * 2 ** this.#failures);
    this.#failures += 1;
    this.#listening = new Promise((resolve) => {
      this.#settleRetry = resolve;
    });
    const settle = this.#settleRetry;
    const timer = setTimeout(() => {
      this.#retryTimer = null;
      if (this.#closed) return settle();
      const attempt = this.#connect();
      this.#listening = attempt;
      attempt.then(settle, settle);
    }, delay);
    this.#retryTimer = timer;
    // Reconnecting must not keep a stopping process alive.
    (timer as unknown as { unref?: () => void }).unref?.();
  }

  /** Test hook and operational escape hatch: drops the connection as a network failure would. */
  dropConnection(): void {
    this.#client?.emit('error', new Error('listener connection dropped'));
  }

  /** Stops listening for good. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#settleRetry();
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => undefined);
  }
}
