/**
 * A real app process for the clock crash test: the REAL client engine on a SQLite file whose
 * physical clock is stuck at `<now>`, so every stamp's order comes from the hybrid logical clock
 * alone: a clock restored from nothing would restart at `<now>` and go back. It writes and syncs
 * against a Ferry server on 127.0.0.1 (its pulls bring other devices' stamps, ahead of `<now>`)
 * until the test SIGKILLs it.
 *
 * Usage: node --import tsx clockClient.ts <baseUrl> <dbPath> <token> <prefix> <now>
 *
 * After each committed write it prints `clock <last stamp> write`, after each sync (a push that
 * drains the outbox, then a pull) `clock <last stamp> sync`, and waits for `go` on stdin: the
 * test kills it there, between two steps, or lets it go on.
 */
import { writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ChangeTracker, createSyncSystem, LocalStore } from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { HybridLogicalClock } from '@ferry/protocol';

const [baseUrl, dbPath, token, prefix, nowArg] = process.argv.slice(2);
if (!baseUrl || !dbPath || !token || !prefix || !nowArg) {
  process.stderr.write('usage: clockClient <baseUrl> <dbPath> <token> <prefix> <now>\n');
  process.exit(2);
}
const CLIENT_ID = 'clock-device';
const now = Number(nowArg);
const localStore = await LocalStore.open(createBetterSqliteDriver(dbPath));
// Bound to the store first, so the engine's ChangeTracker.of() finds this one and its clock.
const tracker = new ChangeTracker(localStore, CLIENT_ID, {
  clock: new HybridLogicalClock(CLIENT_ID, { now: () => now }),
});
const system = await createSyncSystem({
  apiBaseUrl: baseUrl,
  getToken: () => token,
  localStore,
  clientId: CLIENT_ID,
  autoStart: false,
  syncInterval: 0,
  writeDebounceMs: -1,
  timeoutMs: 5000,
  retry: { maxRetries: 0, baseDelay: 1 },
});
const commands = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
/** Reports a committed step, then waits for the test's `go`: a SIGKILL lands right after the step. */
async function report(line: string): Promise<void> {
  writeSync(1, `${line}\n`);
  const command = await commands.next();
  if (command.done || command.value !== 'go') process.exit(0);
}
const todos = system.collection('todos');
for (let i = 0; i < 200; i++) {
  await todos.insert({ id: `${prefix}-${i}`, title: `${prefix}-${i}`, completed: false });
  await report(`clock ${tracker.clock.last} write`);
  if (i % 2 === 1) {
    await system.syncManager.performFullSync();
    await report(`clock ${tracker.clock.last} sync`);
  }
}
writeSync(1, 'done\n');
