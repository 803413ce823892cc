import type { SqlDriver, SqlExecutor, SqlResult, SqlValue } from '@ferry/client';

/**
 * A promise that never settles. A fresh one each time: a shared one would keep every
 * reaction ever attached to it, and with them every frozen engine of a long run.
 */
const never = () => new Promise<never>(() => {});

/**
 * Wraps the real SQLite driver so the app can be killed at any await point of the store.
 * Once armed, the driver counts statements; when the count runs out it closes the real
 * connection (SQLite rolls back the open transaction, exactly as a dead process would) and
 * every pending and later call hangs forever: the engine above it is frozen mid-step.
 */
export class KillableDriver implements SqlDriver {
  readonly #inner: SqlDriver;
  readonly #onKill: () => void;
  #countdown = -1;
  #frozen = false;
  #uncounted = false;

  constructor(inner: SqlDriver, onKill: () => void) {
    this.#inner = inner;
    this.#onKill = onKill;
  }

  /** Kills the app when the engine runs its `statements`-th next statement (0 = the very next; -1 disarms). */
  armKill(statements: number): void {
    this.#countdown = statements;
  }

  get armed(): boolean {
    return this.#countdown >= 0 && !this.#frozen;
  }

  /** Kills now: closes the connection, uncommitted work is rolled back. */
  kill(): void {
    if (this.#frozen) return;
    this.#frozen = true;
    void this.#inner.close();
  }

  /** Runs the simulator's own checks without consuming the kill countdown. */
  async uncounted<T>(fn: () => Promise<T>): Promise<T> {
    this.#uncounted = true;
    try {
      return await fn();
    } finally {
      this.#uncounted = false;
    }
  }

  #gate(): Promise<never> | null {
    if (this.#frozen) return never();
    if (this.#countdown < 0 || this.#uncounted) return null;
    if (this.#countdown === 0) {
      this.kill();
      this.#onKill();
      return never();
    }
    this.#countdown--;
    return null;
  }

  execute(sql: string, params?: readonly SqlValue[]): Promise<SqlResult> {
    return this.#gate() ?? this.#inner.execute(sql, params);
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return (
      this.#gate() ??
      this.#inner.transaction((tx) => fn({ execute: (sql, params) => this.#gate() ?? tx.execute(sql, params) }))
    );
  }

  close(): Promise<void> {
    return this.#frozen ? Promise.resolve() : this.#inner.close();
  }
}
