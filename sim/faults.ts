import type { Prng } from './prng.js';

/**
 * How hostile one seed's world is. Each seed draws its own rates, so a run of many seeds
 * covers calm worlds, lossy ones and chaotic ones. Probabilities are per op (app faults)
 * or per message (network faults).
 */
export interface FaultProfile {
  /** A device flips between online and offline. */
  offline: number;
  /** The app is killed at an await point: in-flight work is lost, the store reopened from its file. */
  kill: number;
  /** The app is closed gracefully and a new engine opens the same store (outbox possibly non-empty). */
  upgrade: number;
  /** The server process restarts: storage closed and reopened from its file. */
  serverRestart: number;
  /** A request never reaches the server; the client sees a network error. */
  dropRequest: number;
  /** The server commits but its response is lost. */
  dropResponse: number;
  /** The server dies after committing, before answering; it then restarts. */
  serverCrashAfterCommit: number;
  /** A request reaches the server twice. */
  duplicate: number;
  /** One-way latency is drawn from [0, maxLatencyMs]; different draws reorder messages. */
  maxLatencyMs: number;
  /** Share of writes that go to entities every device of the user edits (conflicts). */
  contention: number;
  /** Clock skew of each device, ms (up to ±48 h). */
  skews: number[];
  /** A live poke is lost on its way to a device. */
  pokeLoss: number;
  /** A live poke reaches a device twice. */
  pokeDuplicate: number;
  /** Share of devices that hold a live channel (pokes trigger their syncs). */
  live: number;
  /** Per op: the device's token expires; requests fail with 401 until it refreshes. */
  tokenExpiry: number;
  /** Per op: the server compacts history (every tombstone), forcing older cursors to reset. */
  compaction: number;
  /** Share of devices on the `manual` strategy: conflicts park in the inbox until the app resolves them. */
  manual: number;
}

const HOUR = 3_600_000;

/** Draws a seed's fault profile. About one seed in ten is calm (no faults at all). */
export function drawFaults(rng: Prng, clients: number): FaultProfile {
  const calm = rng.chance(0.1);
  const rate = (max: number) => (calm ? 0 : rng.next() * max);
  return {
    offline: rate(0.06),
    kill: rate(0.03),
    upgrade: rate(0.01),
    serverRestart: rate(0.01),
    dropRequest: rate(0.1),
    dropResponse: rate(0.1),
    serverCrashAfterCommit: rate(0.02),
    duplicate: rate(0.1),
    maxLatencyMs: calm ? 0 : rng.int(0, 3000),
    contention: rng.next(),
    skews: Array.from({ length: clients }, () => (calm || rng.chance(0.4) ? 0 : rng.int(-48 * HOUR, 48 * HOUR))),
    pokeLoss: rate(0.5),
    pokeDuplicate: rate(0.3),
    live: rng.next(),
    tokenExpiry: rate(0.02),
    compaction: rate(0.01),
    manual: rate(0.6),
  };
}

/** The healed world: same skews (clocks stay wrong), but no faults and a prompt network. */
export function healed(profile: FaultProfile): FaultProfile {
  return {
    ...profile,
    offline: 0,
    kill: 0,
    upgrade: 0,
    serverRestart: 0,
    dropRequest: 0,
    dropResponse: 0,
    serverCrashAfterCommit: 0,
    duplicate: 0,
    maxLatencyMs: 0,
    pokeLoss: 0,
    pokeDuplicate: 0,
    tokenExpiry: 0,
    compaction: 0,
  };
}

/** A one-line summary for traces. */
export function describeFaults(p: FaultProfile): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return (
    `offline ${pct(p.offline)} kill ${pct(p.kill)} upgrade ${pct(p.upgrade)} restart ${pct(p.serverRestart)} ` +
    `dropReq ${pct(p.dropRequest)} dropResp ${pct(p.dropResponse)} crash ${pct(p.serverCrashAfterCommit)} ` +
    `dup ${pct(p.duplicate)} latency ≤${p.maxLatencyMs}ms contention ${pct(p.contention)} ` +
    `live ${pct(p.live)} pokeLoss ${pct(p.pokeLoss)} pokeDup ${pct(p.pokeDuplicate)} ` +
    `tokenExpiry ${pct(p.tokenExpiry)} compaction ${pct(p.compaction)} manual ${pct(p.manual)} ` +
    `skews ${p.skews.map((s) => `${(s / HOUR).toFixed(1)}h`).join(',')}`
  );
}
