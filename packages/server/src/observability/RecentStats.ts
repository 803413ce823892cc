/** Kinds of sync work whose recent rate and latency the inspector shows. */
export type StatKind = 'push' | 'pull' | 'poke';

/** Rate and latency of one kind over the window. */
export interface RecentFigures {
  count: number;
  perMinute: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

interface Sample {
  at: number;
  /** Null for events without a duration (pokes). */
  ms: number | null;
}

/** Most samples kept per kind: memory stays bounded whatever the traffic. */
const MAX_SAMPLES = 20_000;

/**
 * The last few minutes of pushes, pulls and pokes, for rates and p50/p99 latencies. Prometheus
 * keeps the long history; this is the "right now" a person looks at in the inspector.
 */
export class RecentStats {
  readonly #samples = new Map<StatKind, Sample[]>();
  readonly #windowMs: number;
  readonly #now: () => number;

  constructor(windowMs: number, now: () => number) {
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /** The window in ms. */
  get windowMs(): number {
    return this.#windowMs;
  }

  /** Counts one event of `kind`, with its duration when it has one. */
  record(kind: StatKind, ms: number | null): void {
    let samples = this.#samples.get(kind);
    if (!samples) {
      samples = [];
      this.#samples.set(kind, samples);
    }
    samples.push({ at: this.#now(), ms });
    if (samples.length > MAX_SAMPLES) samples.splice(0, samples.length - MAX_SAMPLES);
  }

  /** Figures of `kind` over the window ending now. */
  figures(kind: StatKind): RecentFigures {
    const since = this.#now() - this.#windowMs;
    const samples = this.#samples.get(kind) ?? [];
    const first = samples.findIndex((sample) => sample.at >= since);
    if (first > 0) samples.splice(0, first);
    else if (first === -1) samples.length = 0;
    const sorted = samples.flatMap((sample) => (sample.ms === null ? [] : [sample.ms])).sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? null;
    return {
      count: samples.length,
      perMinute: (samples.length * 60_000) / this.#windowMs,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
    };
  }
}
