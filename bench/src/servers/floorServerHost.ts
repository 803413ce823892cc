/**
 * Child entry: the floor, the least a sync server can do. A plain `node:http` server over
 * better-sqlite3 (same file settings as Ferry's: WAL, synchronous FULL). `POST /docs` takes a
 * JSON array of records and inserts it in one transaction; `GET /docs?after=&limit=` pages
 * by rowid. No auth, no validation, no conflict handling, no change log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { BenchRecord } from '../data.js';
import { makeRecord } from '../data.js';
import { onStop, report } from '../proc.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-floor-'));
const db = new Database(join(dir, 'floor.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('CREATE TABLE docs (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, body TEXT NOT NULL)');
const insert = db.prepare('INSERT OR REPLACE INTO docs (id, body) VALUES (?, ?)');
const insertAll = db.transaction((records: BenchRecord[]) => {
  for (const record of records) insert.run(record.id, JSON.stringify(record));
});
const page = db.prepare<[number, number], { seq: number; body: string }>(
  'SELECT seq, body FROM docs WHERE seq > ? ORDER BY seq LIMIT ?',
);

const seedCount = Number(process.argv[2] ?? 0);
for (let start = 0; start < seedCount; start += 5000) {
  const batch: BenchRecord[] = [];
  for (let index = start; index < Math.min(seedCount, start + 5000); index++) batch.push(makeRecord(index));
  insertAll(batch);
}

const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  if (request.method === 'POST' && url.pathname === '/docs') {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const records = JSON.parse(Buffer.concat(chunks).toString('utf8')) as BenchRecord[];
      insertAll(records);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ok: records.length }));
    });
    return;
  }
  if (request.method === 'GET' && url.pathname === '/docs') {
    const rows = page.all(Number(url.searchParams.get('after') ?? 0), Number(url.searchParams.get('limit') ?? 1000));
    // Bodies are stored as JSON text already; splice them into the array without re-parsing.
    const docs = rows.map((row) => row.body).join(',');
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(`{"cursor":${rows.at(-1)?.seq ?? 0},"docs":[${docs}]}`);
    return;
  }
  response.writeHead(404).end();
});
server.requestTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  report({ type: 'ready', url: `http://127.0.0.1:${port}` });
});
onStop(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => {
        db.close();
        rmSync(dir, { recursive: true, force: true });
        resolve();
      });
    }),
);
