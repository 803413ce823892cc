/**
 * A real app process for the crash test: the REAL client engine on a SQLite file, writing and
 * syncing against a Ferry server on 127.0.0.1 until the test SIGKILLs it.
 *
 * Usage: node --import tsx crashClient.ts <mode> <baseUrl> <dbPath> <token> <prefix> <writes>
 *
 * - `write`: inserts `<prefix>-0`, `<prefix>-1`, ... and updates earlier ones, syncing every few
 *   writes; after each local commit it prints `committed <id> <title>` (synchronously, so a line
 *   exists only for a write whose transaction returned).
 * - `drain`: syncs until the outbox is empty (bounded), then prints `local <json>` with every
 *   live todo and `pending <n>`.
 */
import { writeSync } from 'node:fs';
import { Collection, createSyncSystem } from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';

const [mode, baseUrl, dbPath, token, prefix, writesArg] = process.argv.slice(2);
if (!mode || !baseUrl || !dbPath || !token || !prefix) {
  process.stderr.write('usage: crashClient <write|drain> <baseUrl> <dbPath> <token> <prefix> <writes>\n');
  process.exit(2);
}

const system = await createSyncSystem({
  apiBaseUrl: baseUrl,
  getToken: () => token,
  driver: createBetterSqliteDriver(dbPath),
  clientId: 'crash-device',
  autoStart: false,
  syncInterval: 0,
  writeDebounceMs: -1,
  timeoutMs: 5000,
  retry: { maxRetries: 0, baseDelay: 1 },
});
const print = (line: string) => writeSync(1, `${line}\n`);

async function syncQuietly(): Promise<void> {
  // The server may be down or the request cut short: the outbox keeps the change either way.
  await system.syncManager.performFullSync().catch(() => undefined);
}

if (mode === 'write') {
  const writes = Number(writesArg ?? '1000');
  const todos = new Collection('todos', system.changeTracker);
  for (let i = 0; i < writes; i++) {
    const id = `${prefix}-${i}`;
    const title = `${id}@0`;
    await todos.insert({ id, title, completed: false });
    print(`committed ${id} ${title}`);
    if (i % 3 === 2) {
      // Rewrites an earlier entity, so an update can be caught between its commit and its push.
      const old = `${prefix}-${i - 2}`;
      const next = `${old}@${i}`;
      await todos.update(old, { title: next });
      print(`committed ${old} ${next}`);
      await syncQuietly();
    }
  }
  print('done');
} else {
  let pending = -1;
  for (let round = 0; round < 20 && pending !== 0; round++) {
    await syncQuietly();
    pending = await system.localStore.countPending();
  }
  const local = await system.localStore.find('todos');
  print(`local ${JSON.stringify(local.map(({ id, title }) => ({ id, title })))}`);
  print(`pending ${pending}`);
  await system.close();
}
