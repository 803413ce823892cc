import type { CompactResult } from '../storage/ServerStorage.js';
import { redactError } from './redactError.js';
import type { ServerMetrics } from './ServerMetrics.js';

/** The history a compaction schedule keeps (ms; absent: kept forever). */
export interface RetentionSettings {
  tombstoneRetentionMs?: number | undefined;
  changeLogRetentionMs?: number | undefined;
}

/** What the inspector shows of compaction on this process. */
export interface CompactionState {
  /** Null when this process runs no compaction schedule. */
  retention: RetentionSettings | null;
  runs: number;
  failures: number;
  lastRunAt: number | null;
  lastResult: CompactResult | null;
  /** Type and code of the last failure (redacted: no message). */
  lastError: { at: number; type: string; code?: string } | null;
}

/**
 * Counts compaction runs of this process's schedule (`ferry serve --tombstone-retention …`) into
 * `ferry_compactions_total` and `ferry_compacted_rows_total`, and keeps the last outcome for the
 * inspector. Pass {@link compacted} and {@link failed} to `scheduleCompaction`.
 */
export class CompactionWatch {
  readonly #metrics: ServerMetrics;
  readonly #now: () => number;
  readonly #state: CompactionState = {
    retention: null,
    runs: 0,
    failures: 0,
    lastRunAt: null,
    lastResult: null,
    lastError: null,
  };

  constructor(metrics: ServerMetrics, now: () => number) {
    this.#metrics = metrics;
    this.#now = now;
  }

  /** Records the retention this process compacts with. */
  retain(retention: RetentionSettings): void {
    this.#state.retention = { ...retention };
  }

  /** A run that finished. */
  readonly compacted = (result: CompactResult): void => {
    this.#state.runs += 1;
    this.#state.lastRunAt = this.#now();
    this.#state.lastResult = { ...result };
    this.#metrics.compactions.inc({ outcome: 'ok' });
    this.#metrics.compactedRows.inc({ kind: 'tombstones' }, result.tombstones);
    this.#metrics.compactedRows.inc({ kind: 'changes' }, result.changes);
  };

  /** A run that failed (the next one still runs). */
  readonly failed = (error: unknown): void => {
    this.#state.failures += 1;
    const { type, code } = redactError(error);
    this.#state.lastError = { at: this.#now(), type, ...(code === undefined ? {} : { code }) };
    this.#metrics.compactions.inc({ outcome: 'failed' });
  };

  /** A copy of the current state. */
  state(): CompactionState {
    return structuredClone(this.#state);
  }
}
