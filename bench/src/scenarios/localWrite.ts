/**
 * Child entry: local write throughput. Ferry's `collection.insert` (entity row + outbox
 * entry in ONE transaction) against bare single-row better-sqlite3 inserts, one
 * autocommit statement per record. Both on a file with Ferry's device settings (WAL,
 * synchronous FULL), so each write is one durable commit on either side. The two alternate
 * for a few rounds and the best round of each counts, to damp noise from other processes.
 *
 * Usage: localWrite.ts <count> [rounds]
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createSyncSystem, HttpRemoteAPI } from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import Database from 'better-sqlite3';
import { makeRecord } from '../data.js';
import { finish } from '../proc.js';
import { scratchDir, type Throughput, timed } from './measure.js';

async function bare(path: string, count: number): Promise<Throughput> {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE docs (id TEXT PRIMARY KEY, body TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO docs (id, body) VALUES (?, ?)');
  const result = await timed(count, async () => {
    for (let index = 0; index < count; index++) {
      const record = makeRecord(index);
      insert.run(record.id, JSON.stringify(record));
    }
  });
  db.close();
  return result;
}

async function ferry(path: string, count: number): Promise<Throughput> {
  const system = await createSyncSystem({
    // Never called: the device stays offline for this scenario.
    remoteAPI: new HttpRemoteAPI({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 1000 }),
    driver: createBetterSqliteDriver(path),
    clientId: 'device-w',
    autoStart: false,
    syncInterval: 0,
    writeDebounceMs: -1,
  });
  const todos = system.collection<{ title: string; completed: boolean; order: number }>('todos');
  const result = await timed(count, async () => {
    for (let index = 0; index < count; index++) await todos.insert(makeRecord(index));
  });
  const pending = await system.localStore.countPending();
  if (pending !== count) throw new Error(`Expected ${count} queued changes, found ${pending}`);
  await system.close();
  return result;
}

const count = Number(process.argv[2] ?? 0);
const rounds = Number(process.argv[3] ?? 3);
if (!(count > 0 && rounds > 0)) throw new Error('Usage: localWrite.ts <count> [rounds]');
const dir = scratchDir('local-write');
try {
  let bestBare: Throughput | undefined;
  let bestFerry: Throughput | undefined;
  for (let round = 0; round < rounds; round++) {
    const b = await bare(join(dir, `bare-${round}.db`), count);
    const f = await ferry(join(dir, `ferry-${round}.db`), count);
    if (!bestBare || b.docsPerSec > bestBare.docsPerSec) bestBare = b;
    if (!bestFerry || f.docsPerSec > bestFerry.docsPerSec) bestFerry = f;
  }
  finish({ ferry: bestFerry, bare: bestBare });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
