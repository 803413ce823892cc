/**
 * The SQL-built pull page against the general path: for any stored rows, the bytes SQLite builds
 * must be exactly `JSON.stringify` of `pull`'s records (through `compactRecord` when compact),
 * and a `GET /v1/pull` answer over them exactly the answer of the route's object path.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMPACT_RECORDS, compactRecord, encodeHlc, RECORDS_HEADER } from '@ferry/protocol';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../testing/testServer.js';
import { SqliteStorage } from './SqliteStorage.js';
import { preparePullJson, pullJsonPage, pullJsonRows } from './sqlitePullJson.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-pulljson-'));
let files = 0;
const nextFile = () => join(dir, `test-${++files}.db`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HLC = encodeHlc({ wallTime: 1_795_643_600_000, counter: 7, node: 'device-a' });
const EARLIER = encodeHlc({ wallTime: 1_795_643_500_000, counter: 0, node: 'device-b' });

// Strings that need escaping, reorder as keys (integer-like keys come first), set a prototype
// if assigned, or sit outside the BMP.
const TRICKY = [
  'title',
  'b',
  '10',
  '2',
  'é',
  'say "hi"',
  'back\\slash',
  'tab\there',
  '\u0000',
  '\u2028',
  '😀',
  '__proto__',
];
const text = fc.oneof(fc.constantFrom(...TRICKY), fc.string({ unit: 'binary', maxLength: 6 }));

/** How a row's field stamps relate to its data: every variant a server can hold, and more. */
const STAMPINGS = ['own', 'own', 'own', 'reordered', 'one-earlier', 'one-missing', 'one-extra', 'none'] as const;

function stampsText(dataText: string | null, stamping: (typeof STAMPINGS)[number], hlc: string): string {
  const data: unknown = dataText === null ? null : JSON.parse(dataText);
  const fields = typeof data === 'object' && data !== null ? Object.keys(data) : [];
  const entries: Array<[string, string]> = fields.map((field) => [field, hlc]);
  if (stamping === 'reordered') entries.reverse();
  if (stamping === 'one-earlier' && entries[0]) entries[0] = [entries[0][0], EARLIER];
  if (stamping === 'one-missing') entries.pop();
  if (stamping === 'one-extra') entries.push(['zz', hlc]);
  if (stamping === 'none') entries.length = 0;
  return JSON.stringify(Object.fromEntries(entries));
}

/** A stored row's columns, as `JSON.stringify` would have written its JSON ones. */
const rowArb = fc
  .record({
    type: fc.constantFrom('todos', 'notes', 'we"ird ü'),
    id: text,
    data: fc.oneof(
      { weight: 8, arbitrary: fc.dictionary(text, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }) },
      { weight: 1, arbitrary: fc.constantFrom([], [1], 5, 'x', {}) },
    ),
    deleted: fc.boolean(),
    version: fc.nat(),
    vector: fc.dictionary(text, fc.nat(), { maxKeys: 3 }),
    hlc: fc.oneof({ weight: 4, arbitrary: fc.constant(HLC) }, { weight: 1, arbitrary: text }),
    stamping: fc.constantFrom(...STAMPINGS),
    clientId: text,
    changeId: text,
    gap: fc.integer({ min: 1, max: 3 }),
  })
  .map((row) => {
    // Through JSON text, as a server holds it: own '__proto__' keys, integer-like keys first.
    const data = row.deleted ? null : JSON.stringify(row.data);
    return { ...row, data, vector: JSON.stringify(row.vector), fieldHlcs: stampsText(data, row.stamping, row.hlc) };
  });

type Row = ReturnType<(typeof rowArb)['generate']>['value'];

function insertRows(path: string, rows: readonly Row[]): void {
  const db = new Database(path);
  const insert = db.prepare(
    `INSERT OR REPLACE INTO records (scope, entity_type, entity_id, data, deleted, version, vector, hlc, field_hlcs,
       seq, client_id, change_id, written_at) VALUES ('alice', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
  );
  let seq = 0;
  db.transaction(() => {
    for (const row of rows) {
      seq += row.gap;
      insert.run(
        row.type,
        row.id,
        row.data,
        row.deleted ? 1 : 0,
        row.version,
        row.vector,
        row.hlc,
        row.fieldHlcs,
        seq,
        row.clientId,
        row.changeId,
      );
    }
  })();
  db.close();
}

const PAGES = [
  { cursor: 0, limit: 1 },
  { cursor: 0, limit: 3 },
  { cursor: 2, limit: 4 },
  { cursor: 0, limit: 1000 },
  { cursor: 0, limit: 1000, types: ['notes', 'we"ird ü'] },
  { cursor: 5, limit: 2, types: ['todos'] },
];

describe('pullJsonPage', () => {
  it('json_quote escapes every character as JSON.stringify does', () => {
    const db = new Database(':memory:');
    const quote = db.prepare<[string], { q: string }>('SELECT json_quote(?) AS q');
    for (let start = 0; start <= 0x10ffff; start += 0x1000) {
      let chunk = '';
      for (let point = start; point < start + 0x1000; point++) {
        if (point < 0xd800 || point > 0xdfff) chunk += String.fromCodePoint(point);
      }
      expect(quote.get(chunk)?.q, `U+${start.toString(16)}`).toBe(JSON.stringify(chunk));
    }
    db.close();
  });

  it('gives the bytes of JSON.stringify of pull, whole and compact, for any stored rows (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(rowArb, { maxLength: 12 }), async (rows) => {
        const path = nextFile();
        const storage = new SqliteStorage(path);
        insertRows(path, rows);
        const db = new Database(path, { readonly: true });
        const statements = preparePullJson(db);
        try {
          for (const options of PAGES) {
            const page = await storage.pull('alice', options);
            const wholeText = JSON.stringify(page.items);
            const compactText = JSON.stringify(page.items.map(compactRecord));
            for (const [compact, expected] of [
              [false, wholeText],
              [true, compactText],
            ] as const) {
              for (const build of [pullJsonPage, pullJsonRows]) {
                const json = build(statements, 'alice', { ...options, compact });
                expect(`[${json.records.toString('utf8')}]`).toBe(expected);
                expect(json).toMatchObject({
                  count: page.items.length,
                  lastSeq: page.items.at(-1)?.seq,
                  hasMore: page.hasMore,
                });
              }
            }
          }
        } finally {
          db.close();
          await storage.close();
        }
      }),
      { numRuns: 150 },
    );
  });

  it('answers GET /v1/pull with the bytes and headers of the route object path (property)', async () => {
    const t = await startTestServer();
    // The same file through a storage whose pull is wrapped: pullJson stands aside, the route
    // serialises `pull`'s records (the path PostgreSQL takes).
    const general = new SqliteStorage(t.dbPath);
    general.pull = SqliteStorage.prototype.pull.bind(general);
    const g = await startTestServer({ storage: general });
    try {
      let round = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(rowArb, { minLength: 1, maxLength: 8 }), async (rows) => {
          const user = `round ${++round}`;
          const db = new Database(t.dbPath);
          db.prepare('DELETE FROM records').run();
          db.close();
          insertRows(t.dbPath, rows);
          for (const url of [
            '/v1/pull?cursor=0&limit=3',
            '/v1/pull?cursor=1&limit=1000',
            '/v1/pull?cursor=0&limit=2&types=notes',
          ]) {
            for (const headers of [{}, { [RECORDS_HEADER]: COMPACT_RECORDS }]) {
              const fast = await t.call('GET', url, { headers });
              const slow = await g.call('GET', url, { headers });
              expect(fast.statusCode, `${user} ${url}`).toBe(200);
              expect(fast.body).toBe(slow.body);
              expect(fast.headers['content-type']).toBe(slow.headers['content-type']);
            }
          }
        }),
        { numRuns: 40 },
      );
    } finally {
      await g.close();
      await general.close();
      await t.close();
    }
  });
});
