/** Kinds of sync work whose recent rate and latency the inspector shows (`limited`: 429 refusals). */
export type StatKind = 'push' | 'pull' | 'poke' | 'limited';

/** Rate and latency of one kind over the window. */
export interface RecentFigures {
  count: number;
  perMinute: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

/** One slice of the window, for the inspector's charts. */
export interface SeriesPoint {
  /** Start of the slice (ms). */
  at: number;
  count: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

interface Sample {
  at: number;
  /** Null for events without a duration (pokes). */
  ms: number | null;
}

/** Most samples counted per kind (at most twice as many are held): memory stays bounded whatever the traffic. */
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
    // Trimmed in batches: dropping the oldest on every event would move the whole array each
    // time (a busy server records thousands a second). Readers look at the newest MAX_SAMPLES.
    if (samples.length >= 2 * MAX_SAMPLES) samples.splice(0, samples.length - MAX_SAMPLES);
  }

  /** Figures of `kind` over the window ending now. */
  figures(kind: StatKind): RecentFigures {
    const samples = this.#current(kind);
    const { p50Ms, p99Ms } = percentiles(samples);
    return { count: samples.length, perMinute: (samples.length * 60_000) / this.#windowMs, p50Ms, p99Ms };
  }

  /**
   * The window ending now cut into `slices` equal slices, oldest first, each with its count and
   * latencies: what the inspector draws as a chart.
   */
  series(kind: StatKind, slices: number): SeriesPoint[] {
    const samples = this.#current(kind);
    const sliceMs = this.#windowMs / slices;
    const start = this.#now() - this.#windowMs;
    const buckets: Sample[][] = Array.from({ length: slices }, () => []);
    for (const sample of samples) {
      const index = Math.min(slices - 1, Math.max(0, Math.floor((sample.at - start) / sliceMs)));
      buckets[index]?.push(sample);
    }
    return buckets.map((bucket, index) => ({
      at: Math.round(start + index * sliceMs),
      count: bucket.length,
      ...percentiles(bucket),
    }));
  }

  /** Samples of `kind` inside the window, dropping older ones for good. */
  #current(kind: StatKind): Sample[] {
    const since = this.#now() - this.#windowMs;
    const samples = this.#samples.get(kind) ?? [];
    if (samples.length > MAX_SAMPLES) samples.splice(0, samples.length - MAX_SAMPLES);
    const first = samples.findIndex((sample) => sample.at >= since);
    if (first > 0) samples.splice(0, first);
    else if (first === -1) samples.length = 0;
    return samples;
  }
}

/** Nearest-rank p50 and p99 of the samples that have a duration. */
function percentiles(samples: readonly Sample[]): { p50Ms: number | null; p99Ms: number | null } {
  const sorted = samples.flatMap((sample) => (sample.ms === null ? [] : [sample.ms])).sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? null;
  return { p50Ms: at(0.5), p99Ms: at(0.99) };
}
