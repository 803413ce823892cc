import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeHlc, HybridLogicalClock } from '@ferry/protocol';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultSchema } from '../defaultSchema.js';
import { decideChange } from '../push/decideChange.js';
import { SqliteStorage } from './SqliteStorage.js';
import { runStorageContract } from './storageContract.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-sqlite-'));
let files = 0;
const nextFile = () => join(dir, `test-${++files}.db`);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

runStorageContract('SqliteStorage (file)', ({ now }) => new SqliteStorage(nextFile(), { now }));

describe('SqliteStorage', () => {
  it('sets WAL, synchronous FULL and a busy timeout', async () => {
    const storage = new SqliteStorage(nextFile());
    const db = new Database(storage.path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    expect(storage.schemaVersion).toBe(3);
    await storage.close();
  });

  it('keeps applied changes across a reopen, without re-running migrations', async () => {
    const path = nextFile();
    const first = new SqliteStorage(path);
    const clock = new HybridLogicalClock('server');
    const hlc = encodeHlc({ wallTime: Date.now(), counter: 0, node: 'dev1' });
    await first.applyChanges(
      'alice',
      [
        {
          id: 'c1',
          entityType: 'todos',
          entityId: 't1',
          operation: 'CREATE',
          data: { title: 'kept' },
          timestamp: 1,
          hlc,
          version: 1,
          vector: { dev1: 1 },
          clientId: 'dev1',
        },
      ],
      (input) => decideChange(input, { schema: defaultSchema, clock }),
    );
    await first.close();
    await first.close();
    const second = new SqliteStorage(path);
    expect(second.schemaVersion).toBe(3);
    expect(await second.getRecord('alice', 'todos', 't1')).toMatchObject({ data: { title: 'kept' }, seq: 1 });
    expect(await second.currentSeq('alice')).toBe(1);
    await second.close();
  });

  it('pullJson gives the text JSON.stringify gives for pull, page by page, with the same checks', async () => {
    const storage = new SqliteStorage(nextFile());
    const clock = new HybridLogicalClock('server');
    const decide = (input: Parameters<typeof decideChange>[0]) => decideChange(input, { schema: defaultSchema, clock });
    const hlc = encodeHlc({ wallTime: Date.now(), counter: 0, node: 'dev1' });
    const change = (id: string, entityId: string, operation: 'CREATE' | 'DELETE', version: number) => ({
      id,
      entityType: 'todos',
      entityId,
      operation,
      data: operation === 'DELETE' ? null : { title: 'q"uote \\ é 😀', nested: { list: [1, 2.5, null, true] } },
      timestamp: 1,
      hlc,
      version,
      vector: { dev1: version },
      clientId: 'dev1',
    });
    await storage.applyChanges(
      'alice',
      [
        change('c1', 'plain', 'CREATE', 1),
        change('c2', 'we"ird \\ id ü', 'CREATE', 1),
        change('c3', 'plain', 'DELETE', 2),
        change('c4', 'third', 'CREATE', 1),
      ],
      decide,
    );
    const all = await storage.pull('alice', { cursor: 0, limit: 10 });
    expect(all.items.map((record) => [record.entityId, record.deleted])).toEqual([
      ['we"ird \\ id ü', false],
      ['plain', true],
      ['third', false],
    ]);
    for (const options of [
      { cursor: 0, limit: 2 },
      { cursor: 2, limit: 2 },
      { cursor: 0, limit: 10 },
      { cursor: 0, limit: 10, types: ['todos'] },
      { cursor: 0, limit: 10, types: ['other'] },
      { cursor: 99, limit: 10 },
    ]) {
      const page = await storage.pull('alice', options);
      const json = storage.pullJson('alice', options);
      expect(`[${json?.records}]`).toBe(JSON.stringify(page.items));
      expect(json).toMatchObject({ count: page.items.length, lastSeq: page.items.at(-1)?.seq, hasMore: page.hasMore });
    }
    expect(storage.pullJson('bob', { cursor: 0, limit: 10 })).toEqual({
      records: '',
      count: 0,
      lastSeq: undefined,
      hasMore: false,
    });
    await storage.close();
  });

  it('pullJson stands aside when pull is replaced on the instance, so the replacement is what runs', async () => {
    const storage = new SqliteStorage(nextFile());
    expect(storage.pullJson('alice', { cursor: 0, limit: 10 })).toBeDefined();
    // A storage fault is a true boundary: the test replaces pull the way fault injection does.
    storage.pull = async () => {
      throw new Error('disk failed');
    };
    expect(storage.pullJson('alice', { cursor: 0, limit: 10 })).toBeUndefined();
    await storage.close();
  });

  it('refuses a database from a newer server', async () => {
    const path = nextFile();
    await new SqliteStorage(path).close();
    const db = new Database(path);
    db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (99, 0)').run();
    db.close();
    expect(() => new SqliteStorage(path)).toThrow(/schema version 99.*upgrade the server/);
  });

  it('fails every call after close', async () => {
    const storage = new SqliteStorage(nextFile());
    await storage.close();
    await expect(storage.currentSeq('alice')).rejects.toThrow(/not open/);
  });
});
