import type { SeedOutcome } from './runSeed.js';

/** The shortest failing run found for a seed: its op count and what broke. */
export interface Shrunk {
  ops: number;
  outcome: SeedOutcome;
  /** Worlds run to find it. */
  runs: number;
}

/**
 * Shrinks a failing seed to fewer ops. A world's first K ops are the same whatever the op
 * count (the PRNG draws them in order; healing follows the last op), so a run cut at K that
 * still fails replays a shorter story. Halves the count until a run passes, then bisects
 * between the last passing and the last failing count. Failure need not be monotone in the
 * count: the result is a short failing run, not the shortest. Bounded to `maxRuns` worlds.
 */
export async function shrinkOps(
  failingOps: number,
  failing: SeedOutcome,
  run: (ops: number) => Promise<SeedOutcome>,
  maxRuns = 20,
): Promise<Shrunk> {
  let best: Shrunk = { ops: failingOps, outcome: failing, runs: 0 };
  let runs = 0;
  let passing = 0;
  for (let ops = Math.floor(failingOps / 2); ops >= 1 && runs < maxRuns; ops = Math.floor(ops / 2)) {
    const outcome = await run(ops);
    runs++;
    if (outcome.ok) {
      passing = ops;
      break;
    }
    best = { ops, outcome, runs };
  }
  let low = passing;
  let high = best.ops;
  while (high - low > 1 && runs < maxRuns) {
    const middle = Math.floor((low + high) / 2);
    const outcome = await run(middle);
    runs++;
    if (outcome.ok) low = middle;
    else {
      high = middle;
      best = { ops: middle, outcome, runs };
    }
  }
  return { ...best, runs };
}
