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
    expect(storage.schemaVersion).toBe(2);
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
    expect(second.schemaVersion).toBe(2);
    expect(await second.getRecord('alice', 'todos', 't1')).toMatchObject({ data: { title: 'kept' }, seq: 1 });
    expect(await second.currentSeq('alice')).toBe(1);
    await second.close();
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
