/**
 * The run's trace: a bounded ring of the latest events, stamped with virtual time. A failing
 * seed prints its tail, which is usually the whole story of the bug.
 */
export class Trace {
  readonly #lines: string[] = [];
  readonly #limit: number;
  #now: () => number;
  /** Every line also goes here when set (`--verbose`). */
  echo: ((line: string) => void) | undefined;

  constructor(now: () => number, limit = 60) {
    this.#now = now;
    this.#limit = limit;
  }

  add(line: string): void {
    const stamped = `t=${this.#now()}ms ${line}`;
    this.#lines.push(stamped);
    if (this.#lines.length > this.#limit) this.#lines.shift();
    this.echo?.(stamped);
  }

  /** The retained tail, oldest first. */
  lines(): string[] {
    return [...this.#lines];
  }
}
