/**
 * A small seeded PRNG (mulberry32). Every random choice of the simulator comes from one of
 * these, so a seed replays the same run bit for bit.
 */
export class Prng {
  #state: number;

  constructor(seed: number) {
    // Mix the seed so that neighbouring seeds do not start on correlated streams.
    this.#state = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ 0xc2b2ae35) >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max], both ends included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** An independent stream derived from this one (for an engine's own randomness). */
  fork(): Prng {
    return new Prng(Math.floor(this.next() * 2 ** 31));
  }

  /** `next` bound to this instance, for APIs that take `() => number`. */
  get random(): () => number {
    return () => this.next();
  }
}
