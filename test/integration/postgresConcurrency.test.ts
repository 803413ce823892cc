/**
 * The pull cursor never skips: many pushers on separate connections and many pullers on one
 * scope, on PostgreSQL (separate pools, as separate processes would have) and SQLite (separate
 * handles on one file). Every puller must see seqs 1, 2, 3, … with no gap, and end with
 * exactly the set of changes the pushers were told were applied.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Change, encodeHlc, HybridLogicalClock } from '@ferry/protocol';
import { decideChange, defaultSchema, PostgresStorage, type ServerStorage, SqliteStorage } from '@ferry/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresCluster, postgresAvailable, startPostgres } from '../support/postgres.js';

const PUSHERS = 8;
const PUSHES_EACH = 25;
const PULLERS = 4;
const SCOPE = 'alice';

const decide = (input: Parameters<typeof decideChange>[0]) =>
  decideChange(input, { schema: defaultSchema, clock: new HybridLogicalClock('server') });

function createChange(pusher: number, push: number, index: number): Change {
  const clientId = `dev-${pusher}`;
  return {
    id: `c-${pusher}-${push}-${index}`,
    entityType: 'todos',
    entityId: `t-${pusher}-${push}-${index}`,
    operation: 'CREATE',
    data: { title: `${pusher}/${push}/${index}` },
    timestamp: 1,
    hlc: encodeHlc({ wallTime: 1_732_550_000_000 + push, counter: index, node: clientId }),
    version: 1,
    vector: { [clientId]: 1 },
    clientId,
  };
}

interface PullerLog {
  seqs: number[];
  ids: Set<string>;
}

/** Reads pages until `done()` and nothing is left; fails on the first gap or reordering. */
async function puller(storage: ServerStorage, useLog: boolean, pageSize: number, done: () => boolean) {
  const log: PullerLog = { seqs: [], ids: new Set() };
  let cursor = 0;
  for (;;) {
    const finished = done();
    const page = useLog
      ? await storage.changesSince(SCOPE, { since: cursor, limit: pageSize })
      : await storage.pull(SCOPE, { cursor, limit: pageSize });
    for (const item of page.items) {
      // Gap-free: the next item is always cursor + 1, never a later seq that committed first.
      expect(item.seq).toBe(cursor + 1);
      cursor = item.seq;
      log.seqs.push(item.seq);
      log.ids.add('changeId' in item ? item.changeId : item.id);
    }
    if (finished && !page.hasMore) return log;
    // Let the event loop turn, as requests arriving over sockets do: SQLite commits pushes in
    // groups on the loop's check phase, which a puller spinning on resolved promises would starve.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

async function hammer(open: () => Promise<ServerStorage>): Promise<void> {
  const storages = await Promise.all(Array.from({ length: PUSHERS + PULLERS }, open));
  try {
    let pushing = true;
    const pullers = storages
      .slice(PUSHERS)
      .map((storage, i) => puller(storage, i % 2 === 0, 3 + i * 5, () => !pushing));
    const applied = new Set<string>();
    let sent = 0;
    await Promise.all(
      storages.slice(0, PUSHERS).map(async (storage, pusher) => {
        for (let push = 0; push < PUSHES_EACH; push++) {
          const size = 1 + ((pusher + push) % 4);
          const changes = Array.from({ length: size }, (_, index) => createChange(pusher, push, index));
          sent += changes.length;
          const outcome = await storage.applyChanges(SCOPE, changes, decide);
          for (const result of outcome.results) if (result.status === 'applied') applied.add(result.changeId);
        }
      }),
    ).finally(() => {
      pushing = false;
    });
    const logs = await Promise.all(pullers);
    const total = applied.size;
    expect(total).toBe(sent);
    expect(await storages[0]?.currentSeq(SCOPE)).toBe(total);
    for (const log of logs) {
      expect(log.seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect([...log.ids].sort()).toEqual([...applied].sort());
    }
  } finally {
    await Promise.all(storages.map((storage) => storage.close()));
  }
}

const available = postgresAvailable();
let cluster: PostgresCluster;
beforeAll(async () => {
  if (available) cluster = await startPostgres();
}, 90_000);
afterAll(async () => {
  await cluster?.stop();
});

describe('the pull cursor never skips under concurrent pushes', () => {
  it.skipIf(!available)(
    'on PostgreSQL: separate pools for every pusher and puller',
    async () => {
      const url = await cluster.createDatabase();
      // Migrate once up front, so the hammering starts on a ready schema.
      await (await PostgresStorage.open({ connectionString: url })).close();
      await hammer(() => PostgresStorage.open({ connectionString: url, maxConnections: 2 }));
    },
    120_000,
  );

  it('on SQLite: separate handles on one file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-concurrency-'));
    try {
      const path = join(dir, 'server.db');
      await new SqliteStorage(path).close();
      await hammer(async () => new SqliteStorage(path));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
