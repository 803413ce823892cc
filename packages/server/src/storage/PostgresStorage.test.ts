import { encodeHlc, HybridLogicalClock } from '@ferry/protocol';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type PostgresCluster, postgresAvailable, startPostgres } from '../../../../test/support/postgres.js';
import { defaultSchema } from '../defaultSchema.js';
import { decideChange } from '../push/decideChange.js';
import { PostgresStorage } from './PostgresStorage.js';
import { runStorageContract } from './storageContract.js';

const available = postgresAvailable();
let cluster: PostgresCluster;

beforeAll(async () => {
  if (available) cluster = await startPostgres();
}, 90_000);
afterAll(async () => {
  await cluster?.stop();
});

const decide = (input: Parameters<typeof decideChange>[0]) =>
  decideChange(input, { schema: defaultSchema, clock: new HybridLogicalClock('server') });

function create(id: string, entityId: string) {
  return {
    id,
    entityType: 'todos',
    entityId,
    operation: 'CREATE' as const,
    data: { title: entityId },
    timestamp: 1,
    hlc: encodeHlc({ wallTime: 1_732_550_000_000, counter: 0, node: 'dev1' }),
    version: 1,
    vector: { dev1: 1 },
    clientId: 'dev1',
  };
}

describe.skipIf(!available)('PostgresStorage', () => {
  runStorageContract('PostgresStorage', async ({ now }) =>
    PostgresStorage.open({ connectionString: await cluster.createDatabase(), now, maxConnections: 4 }),
  );

  it('migrates once when several processes start at once, and keeps data across a reopen', async () => {
    const url = await cluster.createDatabase();
    const storages = await Promise.all([1, 2, 3].map(() => PostgresStorage.open({ connectionString: url })));
    await storages[0]?.applyChanges('alice', [create('c1', 't1')], decide);
    await Promise.all(storages.map((storage) => storage.close()));
    const reopened = await PostgresStorage.open({ connectionString: url });
    expect(await reopened.getRecord('alice', 'todos', 't1')).toMatchObject({ data: { title: 't1' }, seq: 1 });
    await reopened.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query('SELECT version FROM ferry_schema_version ORDER BY version');
    expect(rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }]);
    await client.query('INSERT INTO ferry_schema_version (version) VALUES (99)');
    await client.end();
    await expect(PostgresStorage.open({ connectionString: url })).rejects.toThrow(/version 99.*upgrade the server/);
  });

  it('stores data as JSONB, queryable in SQL', async () => {
    const url = await cluster.createDatabase();
    const storage = await PostgresStorage.open({ connectionString: url });
    await storage.applyChanges('alice', [create('c1', 't1')], decide);
    await storage.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query(
      `SELECT pg_typeof(data)::text AS type, data->>'title' AS title FROM ferry_records WHERE scope = $1`,
      ['alice'],
    );
    await client.end();
    expect(rows).toEqual([{ type: 'jsonb', title: 't1' }]);
  });

  it('refuses a NUL character in data with a clear 400, and keeps serving', async () => {
    const storage = await PostgresStorage.open({ connectionString: await cluster.createDatabase() });
    const bad = { ...create('c1', 't1'), data: { title: 'a\u0000b' } };
    await expect(storage.applyChanges('alice', [bad], decide)).rejects.toMatchObject({
      status: 400,
      code: 'VALIDATION_ERROR',
      message: expect.stringMatching(/NUL character/),
    });
    expect(await storage.currentSeq('alice')).toBe(0);
    await storage.applyChanges('alice', [create('c2', 't2')], decide);
    expect(await storage.currentSeq('alice')).toBe(1);
    await storage.close();
  });

  it('hears commits again after the listener connection drops', async () => {
    const storage = await PostgresStorage.open({ connectionString: await cluster.createDatabase() });
    const heard: number[] = [];
    storage.onCommit((_scope, seq) => heard.push(seq));
    await storage.whenListening();
    storage.dropListenerConnection();
    await storage.whenListening();
    await storage.applyChanges('alice', [create('c1', 't1')], decide);
    await vi.waitFor(() => expect(heard).toEqual([1]), { timeout: 10_000, interval: 20 });
    await storage.close();
  });

  it('fails fast with a clear error when the database is unreachable', async () => {
    const closedPort = new URL(cluster.url);
    closedPort.port = '1';
    await expect(
      PostgresStorage.open({ connectionString: closedPort.toString(), connectionTimeoutMs: 2000 }),
    ).rejects.toThrow(/ECONNREFUSED|connect/);
  });
});
