/** Shared measurement helpers for scenario children. */
import { mkdtempSync, readFileSync } from 'node:fs';
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

/**
 * CPU time (user + system, ms) the process `pid` has used, from `/proc/<pid>/stat` (clock ticks
 * of 10 ms); undefined where there is no such file.
 */
export function processCpuMs(pid: number): number | undefined {
  try {
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** A timed phase with the CPU time both sides spent on it. */
export interface ThroughputWithCpu extends Throughput {
  clientCpuMs: number;
  serverCpuMs?: number;
}

/**
 * {@link timed}, with this process's CPU time over `fn` and the server's (`serverPid`, 0 or
 * unreadable: left out). CPU time moves far less with the machine's load than wall time does.
 */
export async function timedWithCpu(
  docs: number,
  serverPid: number,
  fn: () => Promise<void>,
): Promise<ThroughputWithCpu> {
  const cpuBefore = process.cpuUsage();
  const serverBefore = serverPid > 0 ? processCpuMs(serverPid) : undefined;
  const throughput = await timed(docs, fn);
  const cpu = process.cpuUsage(cpuBefore);
  const serverAfter = serverPid > 0 ? processCpuMs(serverPid) : undefined;
  return {
    ...throughput,
    clientCpuMs: Math.round((cpu.user + cpu.system) / 1000),
    ...(serverBefore === undefined || serverAfter === undefined ? {} : { serverCpuMs: serverAfter - serverBefore }),
  };
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
