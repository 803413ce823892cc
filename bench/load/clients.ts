/**
 * One load-test client process: a fleet of devices, each the real sync engine (createSyncSystem
 * over an in-memory SQLite) writing and syncing in a loop until the deadline, each request sent
 * to the next server process in turn. Push and pull latencies are timed at the transport.
 */
import { createSyncSystem, HttpRemoteAPI, type RemoteAPI, type SyncError } from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { signDevToken } from '@ferry/server';

interface Args {
  urls: string[];
  secret: string;
  devices: number;
  firstUser: number;
  durationMs: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const pushes: number[] = [];
const pulls: number[] = [];
const errors: Record<string, number> = {};

function timed(api: RemoteAPI, next: () => RemoteAPI): RemoteAPI {
  const time = async <T>(into: number[], run: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      const result = await run();
      into.push(performance.now() - start);
      return result;
    } catch (error) {
      const key = String((error as SyncError).status ?? (error as SyncError).code ?? 'unknown');
      errors[key] = (errors[key] ?? 0) + 1;
      throw error;
    }
  };
  return new Proxy(api, {
    get(_target, property) {
      const target = next();
      if (property === 'push') return (...a: Parameters<RemoteAPI['push']>) => time(pushes, () => target.push(...a));
      if (property === 'pull') return (...a: Parameters<RemoteAPI['pull']>) => time(pulls, () => target.pull(...a));
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function runDevice(index: number, deadline: number): Promise<void> {
  const user = `load-${args.firstUser + index}`;
  const token = await signDevToken(args.secret, user, { expiresIn: '1h' });
  const apis = args.urls.map((baseUrl) => new HttpRemoteAPI({ baseUrl, getToken: () => token, timeoutMs: 10_000 }));
  let turn = index;
  const system = await createSyncSystem({
    remoteAPI: timed(apis[0] as RemoteAPI, () => apis[turn++ % apis.length] as RemoteAPI),
    driver: createBetterSqliteDriver(':memory:'),
    clientId: `${user}-device`,
    autoStart: false,
    syncInterval: 0,
    writeDebounceMs: -1,
  });
  let n = 0;
  while (Date.now() < deadline) {
    await system.collection('todos').insert({ id: `t${n}`, title: `todo ${n}` });
    n += 1;
    await system.forceSync().catch(() => undefined);
  }
  await system.close();
}

const deadline = Date.now() + args.durationMs;
await Promise.all(Array.from({ length: args.devices }, (_, index) => runDevice(index, deadline)));
process.send?.({ type: 'result', pushes, pulls, errors, rss: process.memoryUsage().rss });
process.exit(0);
