/**
 * Child entry: the floor's client, against a floor server child. Push POSTs JSON batches of
 * 1,000 records; pull GETs pages of 1,000 and inserts each page into a local better-sqlite3
 * file (WAL, synchronous FULL, like Ferry's device store) in one transaction.
 *
 * Usage: floorClient.ts <url> <count> [sync]  push `count` records, then pull them into a fresh file
 *        floorClient.ts <url> <count> pull     only pull `count` records (from a seeded server)
 * A last argument, the server's pid (Linux), adds the server's CPU time to each phase's.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type BenchRecord, makeRecord } from '../data.js';
import { finish } from '../proc.js';
import { expectCount, fetchWithTimeout, scratchDir, timedWithCpu } from './measure.js';

const BATCH = 1000;

async function push(url: string, count: number): Promise<void> {
  let sent = 0;
  for (let start = 0; start < count; start += BATCH) {
    const batch: BenchRecord[] = [];
    for (let index = start; index < Math.min(count, start + BATCH); index++) batch.push(makeRecord(index));
    const response = await fetchWithTimeout(`${url}/docs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(batch),
    });
    if (!response.ok) throw new Error(`Floor push failed with HTTP ${response.status}`);
    sent += ((await response.json()) as { ok: number }).ok;
  }
  expectCount('Floor push', sent, count);
}

async function pull(url: string, count: number, dbPath: string): Promise<void> {
  const db = new Database(dbPath);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE docs (id TEXT PRIMARY KEY, body TEXT NOT NULL)');
  db.exec('CREATE TABLE cursor (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL)');
  const insert = db.prepare('INSERT OR REPLACE INTO docs (id, body) VALUES (?, ?)');
  const saveCursor = db.prepare('INSERT OR REPLACE INTO cursor (id, seq) VALUES (1, ?)');
  const applyPage = db.transaction((docs: BenchRecord[], cursor: number) => {
    for (const doc of docs) insert.run(doc.id, JSON.stringify(doc));
    saveCursor.run(cursor);
  });
  let cursor = 0;
  let received = 0;
  for (;;) {
    const response = await fetchWithTimeout(`${url}/docs?after=${cursor}&limit=${BATCH}`);
    if (!response.ok) throw new Error(`Floor pull failed with HTTP ${response.status}`);
    const page = (await response.json()) as { cursor: number; docs: BenchRecord[] };
    if (page.docs.length === 0) break;
    applyPage(page.docs, page.cursor);
    cursor = page.cursor;
    received += page.docs.length;
  }
  db.close();
  expectCount('Floor pull', received, count);
}

const [url, count, mode, serverPid] = process.argv.slice(2);
if (!url || !count) throw new Error('Usage: floorClient.ts <url> <count> [pull|sync] [serverPid]');
const pid = Number(serverPid ?? 0);
const dir = scratchDir('floor-client');
try {
  const n = Number(count);
  if (mode === 'pull') {
    finish({ pull: await timedWithCpu(n, pid, () => pull(url, n, join(dir, 'floor-device.db'))) });
  } else {
    const pushed = await timedWithCpu(n, pid, () => push(url, n));
    const pulled = await timedWithCpu(n, pid, () => pull(url, n, join(dir, 'floor-device.db')));
    finish({ push: pushed, pull: pulled });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
