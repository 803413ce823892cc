import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactRecord, encodeHlc, HybridLogicalClock } from '@ferry/protocol';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { defaultSchema } from '../defaultSchema.js';
import { decideChange } from '../push/decideChange.js';
import { SqliteStorage } from './SqliteStorage.js';
import { MIGRATIONS } from './sqliteStatements.js';
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
    expect(storage.schemaVersion).toBe(MIGRATIONS.length);
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
    expect(second.schemaVersion).toBe(MIGRATIONS.length);
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
        change('c5', 'fourth', 'CREATE', 1),
        // A partial update at a later stamp: its fields carry different stamps.
        {
          ...change('c6', 'fourth', 'CREATE', 2),
          operation: 'UPDATE' as const,
          data: { title: 'later' },
          hlc: encodeHlc({ wallTime: Date.now(), counter: 1, node: 'dev1' }),
        },
      ],
      decide,
    );
    const all = await storage.pull('alice', { cursor: 0, limit: 10 });
    expect(all.items.map((record) => [record.entityId, record.deleted])).toEqual([
      ['we"ird \\ id ü', false],
      ['plain', true],
      ['third', false],
      ['fourth', false],
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
      // Compact records: the stored-text check leaves out exactly what compactRecord leaves out.
      const compact = storage.pullJson('alice', { ...options, compact: true });
      expect(`[${compact?.records}]`).toBe(JSON.stringify(page.items.map(compactRecord)));
      expect(compact).toMatchObject({ count: json?.count, lastSeq: json?.lastSeq, hasMore: json?.hasMore });
    }
    // Not vacuous: whole creates went out compact; the tombstone and the partial update whole.
    const compactAll = JSON.parse(`[${storage.pullJson('alice', { cursor: 0, limit: 10, compact: true })?.records}]`);
    expect(compactAll.map((record: object) => 'fieldHlcs' in record)).toEqual([false, true, false, true]);
    expect(all.items[3]?.fieldHlcs).toEqual({ title: all.items[3]?.hlc, nested: hlc });
    expect(storage.pullJson('bob', { cursor: 0, limit: 10 })).toEqual({
      records: Buffer.alloc(0),
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

  it('upgrades a version-3 file: the change log keyed by change id keeps every change, duplicate check and sequence', async () => {
    // A file as a server at schema version 3 left it: its tables, and two changes of alice's in the log.
    const path = nextFile();
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    MIGRATIONS.slice(0, 3).forEach((sql, index) => {
      old.exec(sql);
      old.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, 0)').run(index + 1);
    });
    const hlc = (counter: number) => encodeHlc({ wallTime: 1_732_550_000_000, counter, node: 'dev1' });
    const logged = [1, 2].map((seq) => ({
      id: `old${seq}`,
      entityType: 'todos',
      entityId: 't1',
      operation: seq === 1 ? 'CREATE' : 'UPDATE',
      data: { title: `v${seq}` },
      timestamp: 1,
      hlc: hlc(seq),
      version: seq,
      vector: { dev1: seq },
      clientId: 'dev1',
    }));
    for (const [index, change] of logged.entries()) {
      old
        .prepare(
          `INSERT INTO change_log (scope, change_id, seq, client_id, entity_type, entity_id, change, applied_at)
           VALUES ('alice', ?, ?, 'dev1', 'todos', 't1', ?, ?)`,
        )
        .run(change.id, index + 1, JSON.stringify(change), 1_000 + index);
    }
    old
      .prepare(
        `INSERT INTO records (scope, entity_type, entity_id, data, deleted, version, vector, hlc, field_hlcs, seq, client_id, change_id, written_at)
         VALUES ('alice', 'todos', 't1', '{"title":"v2"}', 0, 2, '{"dev1":2}', ?, ?, 2, 'dev1', 'old2', 1001)`,
      )
      .run(hlc(2), JSON.stringify({ title: hlc(2) }));
    old.prepare("INSERT INTO scopes (scope, seq) VALUES ('alice', 2)").run();
    old.close();

    const storage = new SqliteStorage(path);
    expect(storage.schemaVersion).toBe(4);
    const history = await storage.changesSince('alice', { since: 0, limit: 10 });
    expect(history.items).toEqual(logged.map((change, index) => ({ ...change, seq: index + 1 })));
    const clock = new HybridLogicalClock('server');
    const decide = (input: Parameters<typeof decideChange>[0]) => decideChange(input, { schema: defaultSchema, clock });
    const retried = await storage.applyChanges(
      'alice',
      [logged[1] as (typeof logged)[number] & { operation: 'UPDATE' }],
      decide,
    );
    expect(retried.results[0]?.status).toBe('duplicate');
    const next = await storage.applyChanges(
      'alice',
      [
        {
          ...(logged[1] as (typeof logged)[number]),
          id: 'new3',
          operation: 'UPDATE',
          hlc: hlc(3),
          version: 3,
          vector: { dev1: 3 },
        },
      ],
      decide,
    );
    expect(next.results[0]?.status).toBe('applied');
    expect(next.cursor).toBe(3);
    await storage.close();

    const db = new Database(path, { readonly: true });
    const indexes = db.prepare<[], { name: string; origin: string }>('PRAGMA index_list(change_log)').all();
    const columns = (name: string) =>
      db
        .prepare<[string], { name: string }>('SELECT name FROM pragma_index_info(?) ORDER BY seqno')
        .all(name)
        .map((c) => c.name);
    const primary = indexes.find((index) => index.origin === 'pk');
    expect(columns(primary?.name ?? '')).toEqual(['change_id', 'scope']);
    expect(indexes.filter((index) => index.origin === 'c').map((index) => [index.name, columns(index.name)])).toEqual(
      expect.arrayContaining([
        ['change_log_scope_seq', ['scope', 'seq']],
        ['change_log_applied_at', ['applied_at']],
      ]),
    );
    expect(db.prepare('SELECT applied_at FROM change_log ORDER BY seq').pluck().all()).toEqual([
      1_000,
      1_001,
      expect.any(Number),
    ]);
    db.close();
  });

  it('judges a few-change push (one probe per key) exactly as a large one (one JSON-list query)', async () => {
    const clock = new HybridLogicalClock('server', { now: () => 1_732_550_000_000 });
    const decide = (input: Parameters<typeof decideChange>[0]) => decideChange(input, { schema: defaultSchema, clock });
    const stamp = (counter: number) => encodeHlc({ wallTime: 1_732_550_000_000, counter, node: 'dev1' });
    const write = (id: string, entityId: string, version: number, operation = version === 1 ? 'CREATE' : 'UPDATE') => ({
      id,
      entityType: 'todos',
      entityId,
      operation: operation as 'CREATE' | 'UPDATE' | 'DELETE',
      data: operation === 'DELETE' ? null : { title: `${entityId} v${version}` },
      timestamp: 1,
      hlc: stamp(version),
      version,
      vector: { dev1: version },
      clientId: 'dev1',
    });
    const seeded = [write('s1', 'a', 1), write('s2', 'b', 1), write('s3', 'c', 1)];
    // Updates, a stale write (a conflict), a re-sent id (a duplicate, also within the push), a
    // delete, a create: twelve changes, more than a few.
    const pushed = [
      write('p1', 'a', 2),
      write('s2', 'b', 1),
      { ...write('p2', 'c', 1, 'UPDATE'), vector: { dev2: 1 }, clientId: 'dev2' },
      write('p3', 'd', 1),
      write('p4', 'b', 2, 'DELETE'),
      write('p1', 'a', 2),
      write('p5', 'a', 3),
      write('p6', 'e', 1),
      write('p7', 'd', 2),
      write('p8', 'f', 1),
      write('p9', 'g', 1),
      write('p10', 'h', 1),
    ];
    const outcome = async (pushes: (typeof pushed)[]) => {
      const storage = new SqliteStorage(nextFile(), { now: () => 1_000 });
      await storage.applyChanges('alice', seeded, decide);
      const results = [];
      for (const push of pushes) results.push(...(await storage.applyChanges('alice', push, decide)).results);
      const state = await storage.pull('alice', { cursor: 0, limit: 100 });
      const log = await storage.changesSince('alice', { since: 0, limit: 100 });
      await storage.close();
      return { results, state, log };
    };
    const large = await outcome([pushed]);
    expect(large.results.map((result) => result.status)).toEqual([
      'applied',
      'duplicate',
      'conflict',
      'applied',
      'applied',
      'duplicate',
      'applied',
      'applied',
      'applied',
      'applied',
      'applied',
      'applied',
    ]);
    expect(await outcome([pushed.slice(0, 6), pushed.slice(6)])).toEqual(large);
    expect(await outcome(pushed.map((change) => [change]))).toEqual(large);
  });

  it('refuses a database from a newer server', async () => {
    const path = nextFile();
    await new SqliteStorage(path).close();
    const db = new Database(path);
    db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (99, 0)').run();
    db.close();
    expect(() => new SqliteStorage(path)).toThrow(/schema version 99.*upgrade the server/);
  });

  describe('group commit', () => {
    const clock = new HybridLogicalClock('server');
    const decide = (input: Parameters<typeof decideChange>[0]) => decideChange(input, { schema: defaultSchema, clock });
    let ids = 0;
    const todo = (entityId: string, version = 1) => ({
      id: `g${++ids}`,
      entityType: 'todos',
      entityId,
      operation: version === 1 ? ('CREATE' as const) : ('UPDATE' as const),
      data: { title: `${entityId} v${version}` },
      timestamp: 1,
      hlc: encodeHlc({ wallTime: 1_732_550_000_000 + ids, counter: 0, node: 'dev1' }),
      version,
      vector: { dev1: version },
      clientId: 'dev1',
    });

    it('commits pushes that arrive together in one transaction, in arrival order, groups bounded', async () => {
      const storage = new SqliteStorage(nextFile(), { maxGroupPushes: 3 });
      const groups: number[] = [];
      storage.onGroupCommit((size) => groups.push(size));
      const outcomes = await Promise.all([
        storage.applyChanges('alice', [todo('t1')], decide),
        // Same scope, same entity, same group: decided on the state the push before it left.
        storage.applyChanges('alice', [todo('t1', 2)], decide),
        storage.applyChanges('bob', [todo('t1')], decide),
        storage.applyChanges('alice', [todo('t2')], decide),
      ]);
      expect(groups).toEqual([3, 1]);
      expect(outcomes.map((outcome) => [outcome.results[0]?.status, outcome.cursor])).toEqual([
        ['applied', 1],
        ['applied', 2],
        ['applied', 1],
        ['applied', 3],
      ]);
      expect(await storage.getRecord('alice', 'todos', 't1')).toMatchObject({ version: 2, seq: 2 });
      await storage.close();
    });

    it('fails every push of a group whose transaction cannot commit, keeps none, and commits the next group', async () => {
      const path = nextFile();
      const storage = new SqliteStorage(path, { busyTimeoutMs: 0 });
      const heard: string[] = [];
      storage.onCommit((scope, seq) => heard.push(`${scope}@${seq}`));
      // Another process holds the write lock: the group cannot begin, so nothing may be answered as applied.
      const other = new Database(path);
      other.exec('BEGIN IMMEDIATE');
      const refused = await Promise.allSettled([
        storage.applyChanges('alice', [todo('t1')], decide),
        storage.applyChanges('bob', [todo('t1')], decide),
      ]);
      expect(refused.map((result) => result.status)).toEqual(['rejected', 'rejected']);
      expect(String((refused[0] as PromiseRejectedResult).reason)).toMatch(/locked|busy/i);
      other.exec('ROLLBACK');
      other.close();
      expect(await storage.currentSeq('alice')).toBe(0);
      expect(heard).toEqual([]);
      const retried = await storage.applyChanges('alice', [todo('t1')], decide);
      expect(retried.cursor).toBe(1);
      expect(heard).toEqual(['alice@1']);
      await storage.close();
    });

    it('runs a group when its scheduler says: pushes queued meanwhile wait, then commit together', async () => {
      let held: (() => void) | undefined;
      const storage = new SqliteStorage(nextFile(), {
        scheduleGroupCommit: (flush) => {
          held = flush;
        },
      });
      const groups: number[] = [];
      storage.onGroupCommit((size) => groups.push(size));
      let answered = 0;
      const pushes = ['alice', 'bob', 'carol'].map((scope) =>
        storage.applyChanges(scope, [todo('t1')], decide).then((outcome) => {
          answered++;
          return outcome;
        }),
      );
      await new Promise((resolve) => setImmediate(resolve));
      expect([storage.queuedPushes, answered, groups]).toEqual([3, 0, []]);
      expect(await storage.currentSeq('alice')).toBe(0);
      held?.();
      expect((await Promise.all(pushes)).map((outcome) => outcome.cursor)).toEqual([1, 1, 1]);
      expect([storage.queuedPushes, groups]).toEqual([0, [3]]);
      await storage.close();
    });

    it('commits pushes still queued when it closes', async () => {
      const path = nextFile();
      const storage = new SqliteStorage(path);
      const queued = storage.applyChanges('alice', [todo('t1')], decide);
      await storage.close();
      expect((await queued).cursor).toBe(1);
      const reopened = new SqliteStorage(path);
      expect(await reopened.currentSeq('alice')).toBe(1);
      await reopened.close();
    });

    it('still commits while a test fakes the timers', async () => {
      const storage = new SqliteStorage(nextFile());
      vi.useFakeTimers();
      try {
        expect((await storage.applyChanges('alice', [todo('t1')], decide)).cursor).toBe(1);
      } finally {
        vi.useRealTimers();
      }
      await storage.close();
    });
  });

  it('fails every call after close', async () => {
    const storage = new SqliteStorage(nextFile());
    await storage.close();
    await expect(storage.currentSeq('alice')).rejects.toThrow(/not open/);
  });
});
