/**
 * The pull overlaps the device's work with the server's: the request for page n+1 must be on the
 * wire while page n is applied. The store's SQLite driver is synchronous, so applying a page
 * holds the event loop for its whole transaction; a request merely started before it would leave
 * somewhere inside it, and the server would wait for it. A real server on 127.0.0.1 and a real
 * device; a TCP relay in a worker thread counts the `GET /v1/pull` requests that reach the wire,
 * and the first page's inserts block the device's thread until one has (or a deadline passes),
 * with `Atomics.wait`, as a long synchronous transaction would. The pull must still
 * apply every page, in order, with the cursor after the last.
 */
import { ChangeTracker, HttpRemoteAPI, LocalStore, PullSyncStrategy } from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness.js';
import { type RequestRelay, startRequestRelay } from '../support/requestRelay.js';

/** How long the first page's transaction waits for the next request before concluding it never left. */
const WAIT_MS = 3000;

let h: Harness;
let relay: RequestRelay;
beforeEach(async () => {
  h = await startHarness();
  relay = await startRequestRelay(h.url, 'GET /v1/pull');
});
afterEach(async () => {
  await relay.close();
  await h.close();
});

describe('pull', () => {
  it('puts the request for page n+1 on the wire before page n is applied', async () => {
    const writer = await h.device('writer');
    for (let i = 0; i < 5; i++) {
      await writer.system.changeTracker.trackChange('todos', `t${i}`, 'CREATE', { title: `todo ${i}` });
    }
    expect((await writer.system.syncManager.pushChanges()).successful).toBe(5);

    // The reader's store on a real SQLite file, its driver wrapped to see the statements of a
    // transaction: the first multi-row insert of entities is page 1 being applied (page 1 comes
    // from POST /v1/pull, page 2 is the first GET).
    const waits: string[] = [];
    const driver = createBetterSqliteDriver(`${h.dir}/reader.db`);
    const transaction = driver.transaction.bind(driver);
    driver.transaction = (fn) =>
      transaction((sql) =>
        fn({
          execute: (text, params) => {
            // Blocks this thread as a long synchronous transaction would; 0 = no GET seen so far.
            if (waits.length === 0 && text.startsWith('INSERT INTO ferry_entities')) {
              waits.push(Atomics.wait(relay.seen, 0, 0, WAIT_MS));
            }
            return sql.execute(text, params);
          },
        }),
      );
    const store = await LocalStore.open(driver);
    const tracker = new ChangeTracker(store, 'reader');
    // A token at hand, as an app caches it (signing one per request would itself take turns of the loop).
    const token = await h.token('alice');
    const api = new HttpRemoteAPI({ baseUrl: relay.url, getToken: () => token, timeoutMs: 10_000 });
    const pull = new PullSyncStrategy(api, tracker, { pageSize: 2 });

    const result = await pull.pullChanges();

    expect(result).toMatchObject({ totalChanges: 5, pages: 3, cursor: 5 });
    expect(await pull.getCursor()).toBe(5);
    expect(Atomics.load(relay.seen, 0)).toBe(2);
    // 'ok' or 'not-equal': the GET for page 2 reached the relay before page 1 was applied.
    expect(waits).toHaveLength(1);
    expect(waits[0]).not.toBe('timed-out');
    expect((await store.getAll('todos')).map((todo) => todo.id)).toEqual(['t0', 't1', 't2', 't3', 't4']);
    await store.close();
  });
});
