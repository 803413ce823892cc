import type { CompactResult, ServerStorage } from './ServerStorage.js';

/** How long history is kept; an omitted retention keeps that history forever. */
export interface RetentionOptions {
  /** Tombstones older than this are removed (a device offline longer must reset). */
  tombstoneRetentionMs?: number | undefined;
  /** Applied-change log entries older than this are removed (also the window for deduping retries). */
  changeLogRetentionMs?: number | undefined;
  /** How often to compact (default hourly). */
  intervalMs?: number;
  /** Wall clock in ms; injectable for tests. */
  now?: () => number;
  /** Reported when a compaction fails; the next one still runs. */
  onError?: (error: unknown) => void;
  /** Reported after each compaction that finished, with what it removed (metrics, the inspector). */
  onCompacted?: (result: CompactResult) => void;
}

/** A running compaction schedule. */
export interface CompactionSchedule {
  /** Compacts now with the configured retention. */
  runOnce(): Promise<CompactResult>;
  /** Stops the timer; a compaction in progress finishes. */
  stop(): void;
}

/**
 * Compacts `storage` every `intervalMs` with the given retention. Safe to run in every server
 * process over one PostgreSQL database: compaction is idempotent and locks per scope.
 *
 * @example
 * const schedule = scheduleCompaction(storage, { tombstoneRetentionMs: 30 * 86_400_000 });
 * // on shutdown: schedule.stop();
 */
export function scheduleCompaction(storage: ServerStorage, options: RetentionOptions): CompactionSchedule {
  const now = options.now ?? Date.now;
  const runOnce = async () => {
    const at = now();
    const result = await storage.compact({
      tombstonesBefore: options.tombstoneRetentionMs === undefined ? undefined : at - options.tombstoneRetentionMs,
      changesBefore: options.changeLogRetentionMs === undefined ? undefined : at - options.changeLogRetentionMs,
    });
    options.onCompacted?.(result);
    return result;
  };
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    runOnce()
      .catch((error: unknown) => options.onError?.(error))
      .finally(() => {
        running = false;
      });
  }, options.intervalMs ?? 3_600_000);
  // The schedule must not keep a stopping process alive.
  (timer as unknown as { unref?: () => void }).unref?.();
  return { runOnce, stop: () => clearInterval(timer) };
}
