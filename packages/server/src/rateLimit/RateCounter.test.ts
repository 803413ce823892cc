import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresCluster, postgresAvailable, startPostgres } from '../../../../test/support/postgres.js';
import { PostgresStorage } from '../storage/PostgresStorage.js';
import { MemoryRateCounter } from './RateCounter.js';
import { runRateCounterContract } from './rateCounterContract.js';

const MINUTE = 60_000;
const W0 = 1_732_549_980_000;

runRateCounterContract('MemoryRateCounter', async () => ({
  counter: new MemoryRateCounter(),
  close: async () => undefined,
}));

describe('MemoryRateCounter', () => {
  it('forgets keys whose window is older than the previous one', async () => {
    const counter = new MemoryRateCounter();
    for (let i = 0; i < 10; i += 1) await counter.hit(`push:user${i}`, W0, MINUTE);
    await counter.hit('push:late', W0 + MINUTE, MINUTE);
    expect(counter.size).toBe(11);
    await counter.hit('push:later', W0 + 2 * MINUTE, MINUTE);
    expect(counter.size).toBe(2);
  });
});

const available = postgresAvailable();
let cluster: PostgresCluster;

beforeAll(async () => {
  if (available) cluster = await startPostgres();
}, 90_000);
afterAll(async () => {
  await cluster?.stop();
});

describe.skipIf(!available)('PostgresRateCounter', () => {
  runRateCounterContract('PostgresRateCounter', async () => {
    const storage = await PostgresStorage.open({ connectionString: await cluster.createDatabase(), maxConnections: 8 });
    const counter = storage.createRateCounter();
    return { counter, close: () => storage.close() };
  });

  it('deletes old windows lazily, keeping the previous one', async () => {
    const url = await cluster.createDatabase();
    const storage = await PostgresStorage.open({ connectionString: url });
    const counter = storage.createRateCounter();
    await counter.hit('push:alice', W0, MINUTE);
    await counter.hit('push:alice', W0 + MINUTE, MINUTE);
    await counter.hit('push:alice', W0 + 2 * MINUTE, MINUTE);
    await storage.close();
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
    await client.connect();
    try {
      // The sweep is not awaited by hit(); one more round trip on another connection may race it,
      // so poll a bounded number of times.
      let starts: number[] = [];
      for (let attempt = 0; attempt < 50; attempt += 1) {
        const { rows } = await client.query<{ s: string }>(
          'SELECT window_start AS s FROM ferry_rate_windows ORDER BY window_start',
        );
        starts = rows.map((row) => Number(row.s));
        if (starts.length === 2) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(starts).toEqual([W0 + MINUTE, W0 + 2 * MINUTE]);
    } finally {
      await client.end();
    }
  });
});
