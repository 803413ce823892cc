/**
 * The live-capacity scenario of `npm run load`: N WebSocket clients (several client processes,
 * the `ws` package) connected to one server process on loopback. Measures the time to connect
 * them all, the server's RSS before and with them, and the poke fan-out latency of one write to
 * a user with many connections: from just before the push is sent to each of that user's
 * sockets receiving its poke (all processes read the same wall clock), over several rounds.
 */
import type { ChildProcess } from 'node:child_process';
import { encodeHlc, PROTOCOL_HEADER, PROTOCOL_VERSION } from '@ferry/protocol';
import { signDevToken } from '@ferry/server';
import { next, openFileLimit, percentile, serverRssMB, start, stopServers } from './children.js';

/** Knobs of {@link liveScenario}. */
export interface LiveScenarioOptions {
  scenario: string;
  /** Database of the server processes: a SQLite path or a postgres:// URL. */
  db: string;
  /**
   * Write through a second server process on the same PostgreSQL, so each poke travels
   * NOTIFY → LISTEN → the clients' process: the scale-out path.
   */
  writeViaOtherProcess: boolean;
  secret: string;
  connections: number;
  clientProcesses: number;
  /** Connections of the one user whose writes are timed. */
  hotConnections: number;
  rounds: number;
}

/** What {@link liveScenario} measured. */
export interface LiveResult {
  scenario: string;
  requested: number;
  connected: number;
  failed: number;
  /** Slowest client process, first dial to last `ready`. */
  connectSeconds: number;
  /** The same including forking the client processes. */
  withStartupSeconds: number;
  serverRssIdleMB: number;
  serverRssConnectedMB: number;
  hotConnections: number;
  rounds: number;
  pokesReceived: number;
  pokesExpected: number;
  pokeP50Ms: number;
  pokeP99Ms: number;
  pokeMaxMs: number;
  note?: string;
}

const epochNow = () => performance.timeOrigin + performance.now();

async function pushAsHotUser(url: string, token: string, round: number): Promise<void> {
  const change = {
    id: `live-change-${round}`,
    entityType: 'todos',
    entityId: `live-${round}`,
    operation: 'CREATE',
    data: { title: `round ${round}` },
    timestamp: Date.now(),
    hlc: encodeHlc({ wallTime: Date.now(), counter: 0, node: 'bench' }),
    version: 1,
    vector: { bench: 1 },
    clientId: 'bench',
  };
  const response = await fetch(`${url}/v1/push`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
    },
    body: JSON.stringify({ clientId: 'bench', changes: [change] }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`push answered ${response.status}: ${await response.text()}`);
}

async function collect(clients: ChildProcess[]): Promise<number[]> {
  const replies = clients.map((client) => next<{ arrivals: number[] }>(client, 'arrivals', 10_000));
  for (const client of clients) client.send({ type: 'collect' });
  return (await Promise.all(replies)).flatMap((reply) => reply.arrivals);
}

/** Runs the scenario: clients on the first server process; every wait is bounded. */
export async function liveScenario(options: LiveScenarioOptions): Promise<LiveResult> {
  // Each connection costs the server one descriptor and its client one; keep headroom for the rest.
  const limit = openFileLimit();
  const connections = Math.min(options.connections, Math.max(100, limit - 512));
  const note = connections < options.connections ? `clamped to ulimit -n ${limit}` : undefined;
  const servers = Array.from({ length: options.writeViaOtherProcess ? 2 : 1 }, () =>
    start('./server.ts', [options.db, options.secret]),
  );
  const server = servers[0] as ChildProcess;
  const clients: ChildProcess[] = [];
  try {
    const urls = await Promise.all(servers.map((s) => next<{ url: string }>(s, 'ready', 60_000)));
    const url = urls[0]?.url as string;
    const writeUrl = urls.at(-1)?.url as string;
    const serverRssIdleMB = await serverRssMB(server);
    const procs = options.clientProcesses;
    const perProc = Math.ceil(connections / procs);
    const hotPerProc = Math.ceil(options.hotConnections / procs);
    const started = performance.now();
    for (let i = 0; i < procs; i += 1) {
      const args = {
        url,
        secret: options.secret,
        connections: perProc,
        hot: hotPerProc,
        hotUser: 'live-hot',
        firstUser: i * perProc,
        users: Math.max(1, Math.ceil((perProc - hotPerProc) / 2)),
        concurrency: 100,
      };
      clients.push(start('./liveClients.ts', [JSON.stringify(args)]));
    }
    const connected = await Promise.all(
      clients.map((c) => next<{ connected: number; failures: number; connectMs: number }>(c, 'connected', 180_000)),
    );
    const withStartupSeconds = (performance.now() - started) / 1000;
    // From each client process's first dial to its last ready: excludes forking tsx processes.
    const connectSeconds = Math.max(...connected.map((c) => c.connectMs)) / 1000;
    const serverRssConnectedMB = await serverRssMB(server);
    const token = await signDevToken(options.secret, 'live-hot', { expiresIn: '1h' });
    const latencies: number[] = [];
    const hot = hotPerProc * procs;
    for (let round = 0; round < options.rounds; round += 1) {
      const armed = clients.map((client) => next(client, 'armed', 10_000));
      for (const client of clients) client.send({ type: 'arm' });
      await Promise.all(armed);
      const sentAt = epochNow();
      await pushAsHotUser(writeUrl, token, round);
      // Bounded wait for every hot socket's poke: up to 100 polls of 50 ms.
      let arrivals: number[] = [];
      for (let poll = 0; poll < 100; poll += 1) {
        arrivals = await collect(clients);
        if (arrivals.length >= hot) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      latencies.push(...arrivals.map((at) => at - sentAt));
    }
    const result: LiveResult = {
      scenario: options.scenario,
      requested: options.connections,
      connected: connected.reduce((sum, c) => sum + c.connected, 0),
      failed: connected.reduce((sum, c) => sum + c.failures, 0),
      connectSeconds: Number(connectSeconds.toFixed(2)),
      withStartupSeconds: Number(withStartupSeconds.toFixed(2)),
      serverRssIdleMB,
      serverRssConnectedMB,
      hotConnections: hot,
      rounds: options.rounds,
      pokesReceived: latencies.length,
      pokesExpected: hot * options.rounds,
      pokeP50Ms: Number(percentile(latencies, 50).toFixed(1)),
      pokeP99Ms: Number(percentile(latencies, 99).toFixed(1)),
      pokeMaxMs: Number(percentile(latencies, 100).toFixed(1)),
    };
    return note === undefined ? result : { ...result, note };
  } finally {
    for (const client of clients) if (client.connected) client.send({ type: 'stop' });
    await stopServers(servers);
  }
}
