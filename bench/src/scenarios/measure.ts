/** Shared measurement helpers for scenario children. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One timed phase: how many docs moved in how long. */
export interface Throughput {
  docs: number;
  ms: number;
  docsPerSec: number;
}

/** Times `fn`, which moves `docs` documents. */
export async function timed(docs: number, fn: () => Promise<void>): Promise<Throughput> {
  const start = performance.now();
  await fn();
  const ms = performance.now() - start;
  return { docs, ms: Math.round(ms), docsPerSec: Math.round((docs * 1000) / ms) };
}

/** A fresh temporary directory for one scenario's files. */
export function scratchDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `ferry-bench-${label}-`));
}

/** `fetch` with a deadline: every network path in the benchmark has one. */
export function fetchWithTimeout(url: string, init: RequestInit = {}, timeoutMs = 30_000): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
}

/** Throws when a phase did not move what it should have (a benchmark of a failure is no figure). */
export function expectCount(what: string, actual: number, expected: number): void {
  if (actual !== expected) throw new Error(`${what}: expected ${expected} documents, got ${actual}`);
}

/**
 * Samples resident set size while a phase runs. `peakMB` is the larger of the sampled peak
 * and the kernel's `maxRSS` for the process (which also covers the moments between samples).
 */
export function rssSampler(intervalMs = 25): { stop(): { peakMB: number; sampledPeakMB: number } } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage.rss());
      const maxRssBytes = process.resourceUsage().maxRSS * 1024;
      const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
      return { peakMB: mb(Math.max(peak, maxRssBytes)), sampledPeakMB: mb(peak) };
    },
  };
}
