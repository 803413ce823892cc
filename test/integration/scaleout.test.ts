/**
 * Several stateless server processes over one PostgreSQL database: started by `ferry serve
 * --db postgres://…` (in-process, each with its own pool and LISTEN connection), devices that
 * hit a different process on every request lose nothing, and a commit through one process
 * pokes WebSocket clients connected to another.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSyncSystem, HttpRemoteAPI, type RemoteAPI, type SyncSystem } from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from '@ferry/protocol';
import { type RunningServe, runServe, signDevToken } from '@ferry/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type PostgresCluster, postgresAvailable, startPostgres } from '../support/postgres.js';

const SECRET = 'scale-out-secret-long-enough-for-hs256';
const PROCESSES = 3;
const available = postgresAvailable();

let cluster: PostgresCluster;
let dir: string;
let servers: RunningServe[] = [];
const systems: SyncSystem[] = [];

beforeAll(async () => {
  if (!available) return;
  cluster = await startPostgres();
  const db = await cluster.createDatabase();
  dir = mkdtempSync(join(tmpdir(), 'ferry-scaleout-'));
  const deps = {
    cwd: dir,
    env: { FERRY_JWT_SECRET: SECRET },
    print: () => undefined,
    signals: new EventEmitter(),
    logger: false as const,
  };
  // Started together, as a deploy would: the schema migration runs once under an advisory lock.
  servers = await Promise.all(Array.from({ length: PROCESSES }, () => runServe(['--port', '0', '--db', db], deps)));
}, 90_000);

afterAll(async () => {
  for (const system of systems) await system.close();
  await Promise.all(servers.map((server) => server.shutdown()));
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** A transport that sends each request to the next process in turn; counts requests per process. */
function roundRobin(apis: RemoteAPI[], hits: number[]): RemoteAPI {
  let next = 0;
  return new Proxy(apis[0] as RemoteAPI, {
    get(_target, property) {
      const index = next++ % apis.length;
      const api = apis[index] as RemoteAPI;
      const value = Reflect.get(api, property);
      if (typeof value !== 'function') return value;
      hits[index] = (hits[index] ?? 0) + 1;
      return value.bind(api);
    },
  });
}

async function device(name: string, hits: number[]): Promise<SyncSystem> {
  const token = await signDevToken(SECRET, 'alice', { expiresIn: '1h' });
  const apis = servers.map(
    (server) => new HttpRemoteAPI({ baseUrl: server.url, getToken: () => token, timeoutMs: 5000 }),
  );
  const system = await createSyncSystem({
    remoteAPI: roundRobin(apis, hits),
    driver: createBetterSqliteDriver(join(dir, `${name}.db`)),
    clientId: name,
    autoStart: false,
    syncInterval: 0,
    writeDebounceMs: -1,
  });
  systems.push(system);
  return system;
}

describe.skipIf(!available)(`${PROCESSES} server processes on one PostgreSQL`, () => {
  it('devices alternating between processes on every request converge and lose nothing', async () => {
    const hits: number[] = [];
    const a = await device('dev-a', hits);
    const b = await device('dev-b', hits);
    for (let round = 0; round < 5; round++) {
      for (const [index, system] of [a, b].entries()) {
        for (let n = 0; n < 4; n++) await system.collection('todos').insert({ id: `${index}-${round}-${n}`, order: n });
        await system.collection('todos').update(`${index}-${round}-0`, { title: `round ${round}` });
        await system.forceSync();
      }
    }
    await a.forceSync();
    await b.forceSync();
    const todos = await a.localStore.find('todos');
    expect(todos).toHaveLength(40);
    expect(await b.localStore.find('todos')).toEqual(todos);
    expect(todos.filter((todo) => todo.title !== undefined)).toHaveLength(10);
    expect(await a.localStore.countPending()).toBe(0);
    expect(await b.localStore.countPending()).toBe(0);
    // Every process served requests, and each sees the whole history.
    expect(hits.filter((count) => count > 0)).toHaveLength(PROCESSES);
    for (const server of servers) expect(await server.server.storage.currentSeq('alice')).toBe(50);
  });

  it('a commit through one process pokes a WebSocket client connected to another', async () => {
    const token = await signDevToken(SECRET, 'bob', { expiresIn: '1h' });
    const last = servers[PROCESSES - 1] as RunningServe;
    const socket = new WebSocket(`${last.url.replace('http', 'ws')}/v1/live`);
    const messages: Array<{ type: string; cursor?: number }> = [];
    socket.on('message', (data) => messages.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    socket.send(JSON.stringify({ type: 'hello', protocolVersion: PROTOCOL_VERSION, token }));
    await expect.poll(() => messages.some((message) => message.type === 'ready'), { timeout: 5000 }).toBe(true);

    const first = servers[0] as RunningServe;
    const response = await fetch(`${first.url}/v1/entities/todos`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
      },
      body: JSON.stringify({ title: 'from process 0' }),
    });
    expect(response.status).toBe(201);
    await expect
      .poll(() => messages.find((message) => message.type === 'poke'), { timeout: 5000 })
      .toEqual({ type: 'poke', cursor: 1 });
    socket.close();
  });
});
