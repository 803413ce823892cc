import type { ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createServer, defaultSchema, type FerryServer, signDevToken } from '@ferry/server';
import { describe, expect, it } from 'vitest';
import { Prng } from '../../sim/prng.js';
import { processTestBench, spawnServe, spawnTsx } from '../support/serveProcess.js';

/**
 * Real processes, real SIGKILLs: an app process (the real engine on a SQLite file) killed at
 * seeded moments while it writes and syncs, and a `ferry serve` process killed while devices
 * push to it. Every write the app saw committed survives and reaches the server exactly once;
 * every change the server acknowledged survives its death.
 */
const SECRET = 'crash-secret-long-enough-for-hs256-signing';
const ROOT = resolve(import.meta.dirname, '../..');
const CLIENT = join(ROOT, 'test/support/crashClient.ts');
const SEED = 7;

const { children, dir: testDir } = processTestBench('ferry-crash-');

/** Spawns `node --import tsx <args>` and hands each stdout line to `onLine`; resolves on exit. */
function run(args: string[], onLine: (line: string, child: ChildProcess) => void) {
  return spawnTsx(args, onLine, { children });
}

interface ServerLog {
  changes: Array<{ id: string; entityId: string; operation: string }>;
  titles: Map<string, string>;
}

/** Reads the whole change log and the live records of `token`'s user over HTTP. */
async function serverLog(url: string, token: string): Promise<ServerLog> {
  const headers = { authorization: `Bearer ${token}`, 'ferry-protocol': '1' };
  const changes: ServerLog['changes'] = [];
  for (let since = 0, more = true, page = 0; more && page < 1000; page++) {
    const body = await (await fetch(`${url}/v1/changes?since=${since}&limit=500`, { headers })).json();
    changes.push(...body.changes);
    ({ cursor: since, hasMore: more } = body);
  }
  const titles = new Map<string, string>();
  for (let after = '', more = true, page = 0; more && page < 1000; page++) {
    const query = after ? `&after=${encodeURIComponent(after)}` : '';
    const body = await (await fetch(`${url}/v1/entities/todos?limit=500${query}`, { headers })).json();
    for (const record of body.records) titles.set(record.entityId, record.data.title);
    more = body.hasMore;
    after = body.records.at(-1)?.entityId ?? '';
  }
  return { changes, titles };
}

/** Runs the app in drain mode: sync until the outbox is empty; returns its live todos. */
async function drain(url: string, dbPath: string, token: string) {
  let local: Array<{ id: string; title: string }> = [];
  let pending = -1;
  const { exited } = run([CLIENT, 'drain', url, dbPath, token, 'x', '0'], (line) => {
    if (line.startsWith('local ')) local = JSON.parse(line.slice(6));
    if (line.startsWith('pending ')) pending = Number(line.slice(8));
  });
  await exited;
  return { local: new Map(local.map((todo) => [todo.id, todo.title])), pending };
}

function expectExactlyOnce(log: ServerLog, committed: Map<string, string>): void {
  const ids = log.changes.map((change) => change.id);
  expect(new Set(ids).size, 'a change id twice in the server log').toBe(ids.length);
  const creates = log.changes.filter((change) => change.operation === 'CREATE').map((change) => change.entityId);
  expect(new Set(creates).size, 'an entity created twice').toBe(creates.length);
  for (const [id, title] of committed) expect(log.titles.get(id), `${id} on the server`).toBe(title);
}

describe('real-process crashes', () => {
  it('an app SIGKILLed at random moments loses no committed write and duplicates none', async () => {
    const dir = testDir();
    const rng = new Prng(SEED);
    const server: FerryServer = await createServer({
      dbPath: join(dir, 'server.db'),
      schema: defaultSchema,
      auth: { secret: SECRET },
    });
    try {
      const { url } = await server.listen({ port: 0, host: '127.0.0.1' });
      const token = await signDevToken(SECRET, 'alice', { expiresIn: '1h' });
      const dbPath = join(dir, 'app.db');
      const committed = new Map<string, string>();
      let killed = 0;
      for (let round = 0; round < 5; round++) {
        // Killed after a drawn number of committed writes, then after a drawn extra number of lines.
        const killAfter = rng.int(1, 30);
        let seen = 0;
        const { exited } = run([CLIENT, 'write', url, dbPath, token, `r${round}`, '60'], (line, child) => {
          const [kind, id, title] = line.split(' ');
          if (kind !== 'committed' || !id || !title) return;
          committed.set(id, title);
          if (++seen === killAfter) setImmediate(() => child.kill('SIGKILL') && killed++);
        });
        await exited;
      }
      // The kills landed mid-run, not after the app had finished.
      expect(killed).toBe(5);
      expect(committed.size).toBeLessThan(5 * 60);
      const { local, pending } = await drain(url, dbPath, token);
      expect(pending).toBe(0);
      for (const [id, title] of committed) expect(local.get(id), `${id} locally`).toBe(title);
      expectExactlyOnce(await serverLog(url, token), committed);
    } finally {
      await server.close();
    }
  }, 120_000);

  it('acknowledged changes survive SIGKILLs of the `ferry serve` process', async () => {
    const dir = testDir();
    const rng = new Prng(SEED + 1);
    const probe = await createServer({ schema: defaultSchema, auth: { secret: SECRET } });
    const port = Number(new URL((await probe.listen({ port: 0, host: '127.0.0.1' })).url).port);
    await probe.close();
    const url = `http://127.0.0.1:${port}`;
    const serve = () => spawnServe(port, join(dir, 'server.db'), { env: { FERRY_JWT_SECRET: SECRET }, children });
    const token = await signDevToken(SECRET, 'bob', { expiresIn: '1h' });
    const dbPaths = [join(dir, 'app0.db'), join(dir, 'app1.db')];
    const committed = new Map<string, string>();
    let killedUnderLoad = 0;
    for (let round = 0; round < 4; round++) {
      const server = serve();
      await server.ready;
      // Two app processes push concurrently; the server dies after a drawn number of their commits.
      const killAfter = rng.int(3, 25);
      let seen = 0;
      const apps = dbPaths.map((dbPath, index) =>
        run([CLIENT, 'write', url, dbPath, token, `s${round}d${index}`, '30'], (line) => {
          const [kind, id, title] = line.split(' ');
          if (kind !== 'committed' || !id || !title) return;
          committed.set(id, title);
          if (++seen === killAfter && server.child.kill('SIGKILL')) killedUnderLoad++;
        }),
      );
      await Promise.all(apps.map((app) => app.exited));
      server.child.kill('SIGKILL');
      await server.exited;
    }
    expect(killedUnderLoad).toBe(4);
    const server = serve();
    await server.ready;
    try {
      // A change the server acknowledged and then lost would be gone for good: the app dropped it
      // from its outbox on the acknowledgement, so draining cannot bring it back.
      for (const dbPath of dbPaths) expect((await drain(url, dbPath, token)).pending).toBe(0);
      expectExactlyOnce(await serverLog(url, token), committed);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 120_000);
});
