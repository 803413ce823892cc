/** The shape of `bench/results/*.json`, and the ratios derived from the raw figures. */
import type { Throughput } from './scenarios/measure.js';

/** One sync direction of the three systems, with Ferry's ratios. */
export interface DirectionResult {
  ferry: Throughput;
  floor: Throughput;
  pouchdb: Throughput;
  /** Ferry docs/s ÷ floor docs/s. */
  ratioToFloor: number;
  /** Ferry docs/s ÷ PouchDB docs/s. */
  ratioToPouchdb: number;
  /** The target for `ratioToFloor`. */
  target: number;
}

/** Everything one run measured. */
export interface BenchResults {
  generatedAt: string;
  mode: 'full' | 'quick';
  machine: { cpus: number; cpuModel: string; memoryGB: number; node: string; platform: string };
  recordBytes: number;
  sizes: { sync: number; localWrite: number; rss: number; liveClients: number; liveRounds: number; syncRounds: number };
  /** Batch sizes and storage settings of each system, so a reader can judge the comparison. */
  setup: Record<string, string | number>;
  pull: DirectionResult;
  push: DirectionResult;
  localWrite: { ferry: Throughput; bare: Throughput; ratioToBare: number; target: number };
  rss: {
    records: number;
    peakMB: number;
    sampledPeakMB: number;
    baselineMB: number;
    pull: Throughput;
    targetMB: number;
  };
  live:
    | {
        status: 'measured';
        clients: number;
        rounds: number;
        p50Ms: number;
        p99Ms: number;
        targetP99Ms: number;
      }
    | { status: 'pending'; reason: string };
}

/** `a / b` to three decimals. */
export function ratio(a: Throughput, b: Throughput): number {
  return Math.round((a.docsPerSec / b.docsPerSec) * 1000) / 1000;
}

/** One direction's figures with its ratios. */
export function direction(ferry: Throughput, floor: Throughput, pouchdb: Throughput, target: number): DirectionResult {
  return { ferry, floor, pouchdb, ratioToFloor: ratio(ferry, floor), ratioToPouchdb: ratio(ferry, pouchdb), target };
}
