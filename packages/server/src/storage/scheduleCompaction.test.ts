import { encodeHlc, HybridLogicalClock } from '@ferry/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultSchema } from '../defaultSchema.js';
import { decideChange } from '../push/decideChange.js';
import { SqliteStorage } from './SqliteStorage.js';
import { scheduleCompaction } from './scheduleCompaction.js';

const DAY = 86_400_000;
const T0 = 1_732_550_000_000;

function change(id: string, operation: 'CREATE' | 'DELETE', version: number) {
  return {
    id,
    entityType: 'todos',
    entityId: 't1',
    operation,
    data: operation === 'DELETE' ? null : { title: 'x' },
    timestamp: T0,
    hlc: encodeHlc({ wallTime: T0 + version, counter: 0, node: 'dev' }),
    version,
    vector: { dev: version },
    clientId: 'dev',
  };
}

describe('scheduleCompaction', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('removes history past the retention on every tick, and stops', async () => {
    vi.useFakeTimers();
    let time = T0;
    const storage = new SqliteStorage(':memory:', { now: () => time });
    const decide = (input: Parameters<typeof decideChange>[0]) =>
      decideChange(input, { schema: defaultSchema, clock: new HybridLogicalClock('server', { now: () => time }) });
    await storage.applyChanges('alice', [change('c1', 'CREATE', 1), change('c2', 'DELETE', 2)], decide);
    const compact = vi.spyOn(storage, 'compact');
    const reported: unknown[] = [];
    const schedule = scheduleCompaction(storage, {
      tombstoneRetentionMs: 7 * DAY,
      intervalMs: DAY,
      now: () => time,
      onCompacted: (result) => reported.push(result),
    });

    time = T0 + DAY;
    await vi.advanceTimersByTimeAsync(DAY);
    expect(compact).toHaveBeenLastCalledWith({ tombstonesBefore: T0 - 6 * DAY, changesBefore: undefined });
    expect(await storage.getRecord('alice', 'todos', 't1')).toMatchObject({ deleted: true });

    time = T0 + 8 * DAY;
    await vi.advanceTimersByTimeAsync(DAY);
    expect(await storage.getRecord('alice', 'todos', 't1')).toBeNull();
    expect(reported).toEqual([
      { tombstones: 0, changes: 0 },
      { tombstones: 1, changes: 0 },
    ]);
    // The log is kept: no retention was configured for it.
    expect((await storage.changesSince('alice', { since: 0, limit: 10 })).items).toHaveLength(2);

    schedule.stop();
    await vi.advanceTimersByTimeAsync(5 * DAY);
    expect(compact).toHaveBeenCalledTimes(2);
    await storage.close();
  });
});
