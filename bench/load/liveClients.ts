/**
 * One live-capacity client process: opens `connections` WebSockets to `GET /v1/live` (at most
 * `concurrency` handshakes in flight), each saying hello and waiting for `ready`. The first
 * `hot` connections belong to one user, the rest are spread over other users. Then, per round
 * the parent announces, it times when each hot connection receives its poke.
 */
import { PROTOCOL_VERSION } from '@ferry/protocol';
import { signDevToken } from '@ferry/server';
import WebSocket from 'ws';

interface Args {
  url: string;
  secret: string;
  connections: number;
  hot: number;
  hotUser: string;
  firstUser: number;
  users: number;
  concurrency: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const wsUrl = `${args.url.replace(/^http/, 'ws')}/v1/live`;
const sockets: WebSocket[] = [];
const tokens = new Map<string, Promise<string>>();
// Poke arrival times (epoch ms, sub-ms precision) of hot connections in the current round.
let arrivals: number[] = [];
let failures = 0;

const epochNow = () => performance.timeOrigin + performance.now();

function token(user: string): Promise<string> {
  let signed = tokens.get(user);
  if (signed === undefined) {
    signed = signDevToken(args.secret, user, { expiresIn: '1h' });
    tokens.set(user, signed);
  }
  return signed;
}

async function open(index: number): Promise<void> {
  const hot = index < args.hot;
  const user = hot ? args.hotUser : `live-${args.firstUser + (index % args.users)}`;
  const hello = JSON.stringify({ type: 'hello', protocolVersion: PROTOCOL_VERSION, token: await token(user) });
  await new Promise<void>((resolve) => {
    const socket = new WebSocket(wsUrl, { handshakeTimeout: 20_000 });
    const timer = setTimeout(() => {
      failures += 1;
      socket.terminate();
      resolve();
    }, 30_000);
    socket.on('open', () => socket.send(hello));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string };
      if (message.type === 'ready') {
        clearTimeout(timer);
        sockets.push(socket);
        resolve();
      } else if (message.type === 'poke' && hot) {
        arrivals.push(epochNow());
      }
    });
  });
}

const startedAt = performance.now();
let nextIndex = 0;
const worker = async () => {
  while (nextIndex < args.connections) await open(nextIndex++);
};
await Promise.all(Array.from({ length: Math.min(args.concurrency, args.connections) }, worker));
process.send?.({
  type: 'connected',
  connected: sockets.length,
  failures,
  connectMs: performance.now() - startedAt,
  rss: process.memoryUsage().rss,
});

process.on('message', (message: { type: string; round?: number }) => {
  if (message.type === 'arm') {
    arrivals = [];
    process.send?.({ type: 'armed' });
  } else if (message.type === 'collect') {
    process.send?.({ type: 'arrivals', arrivals });
  } else if (message.type === 'stop') {
    for (const socket of sockets) socket.terminate();
    process.exit(0);
  }
});
