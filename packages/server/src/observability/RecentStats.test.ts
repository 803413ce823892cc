import { describe, expect, it } from 'vitest';
import { RecentStats } from './RecentStats.js';

describe('RecentStats', () => {
  it('counts the newest 20,000 events of a kind, however many were recorded', () => {
    const stats = new RecentStats(60_000, () => 1_000);
    // Past the bound and past the batch in which old samples are dropped.
    for (let index = 0; index < 45_001; index++) stats.record('push', index);
    const figures = stats.figures('push');
    expect(figures.count).toBe(20_000);
    // The newest are 25,001 … 45,000: their median and 99th percentile, not older ones.
    expect(figures.p50Ms).toBe(35_001);
    expect(figures.p99Ms).toBe(44_801);
    expect(stats.figures('pull').count).toBe(0);
  });

  it('drops events older than the window', () => {
    let now = 0;
    const stats = new RecentStats(1_000, () => now);
    stats.record('pull', 5);
    now = 900;
    stats.record('pull', 7);
    now = 1_500;
    expect(stats.figures('pull')).toMatchObject({ count: 1, p50Ms: 7, p99Ms: 7 });
  });
});
