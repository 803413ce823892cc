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

/** Queries per second of one contender in the query scenario. */
export interface QueryRate {
  queries: number;
  ms: number;
  perSec: number;
}

/** One local query, Ferry against bare better-sqlite3 on the same data and index. */
export interface QueryComparison {
  ferry: QueryRate;
  /** Bare better-sqlite3: the same SQL on the same file (same rows, same index). */
  bare: QueryRate;
  /** Bare better-sqlite3 on a minimal JSON table (no sync metadata) with the same expression index. */
  bareJsonTable: QueryRate;
  /** Bare better-sqlite3 on a typed table (a column per field) with an index on the same keys. */
  bareTyped: QueryRate;
  /** Ferry ÷ bare: the figure the target applies to. */
  ratioToBare: number;
  /** Ferry ÷ the minimal JSON table. */
  ratioToJsonTable: number;
  /** Ferry ÷ the typed table. */
  ratioToTyped: number;
  target: number;
}

/** The query scenario: local queries on `records` records and a reactive query's latency. */
export interface QueryResults {
  records: number;
  /** Open todos due after a threshold, sorted by due date, first `limit`. */
  page: QueryComparison & { limit: number };
  /** count() of every open todo (an indexed filter). */
  count: QueryComparison;
  /** A pulled page's commit to the live query's subscriber callback. */
  reactive: { rounds: number; p50Ms: number; p99Ms: number };
}

/** Everything one run measured. */
export interface BenchResults {
  generatedAt: string;
  mode: 'full' | 'quick';
  machine: { cpus: number; cpuModel: string; memoryGB: number; node: string; platform: string };
  recordBytes: number;
  sizes: {
    sync: number;
    localWrite: number;
    rss: number;
    liveClients: number;
    liveRounds: number;
    syncRounds: number;
    query: number;
  };
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
    /** The floor's pull of the same number of records, in the same run. */
    floorPull: Throughput;
    /** Ferry's initial-sync docs/s ÷ the floor's. */
    ratioToFloor: number;
    /** The target for `ratioToFloor`. */
    targetRatio: number;
  };
  query: QueryResults;
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

/** `a / b` of two query rates, to three decimals. */
export function queryRatio(a: QueryRate, b: QueryRate): number {
  return Math.round((a.perSec / b.perSec) * 1000) / 1000;
}

/** `a / b` to three decimals. */
export function ratio(a: Throughput, b: Throughput): number {
  return Math.round((a.docsPerSec / b.docsPerSec) * 1000) / 1000;
}

/** One direction's figures with its ratios. */
export function direction(ferry: Throughput, floor: Throughput, pouchdb: Throughput, target: number): DirectionResult {
  return { ferry, floor, pouchdb, ratioToFloor: ratio(ferry, floor), ratioToPouchdb: ratio(ferry, pouchdb), target };
}
