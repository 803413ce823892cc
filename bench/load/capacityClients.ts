/**
 * One server-capacity client process: `clients` virtual devices, each its own user, speaking the
 * protocol straight over node:http with keep-alive (no client engine, so the load costs little):
 * push one change, pull from its cursor, push, pull … until the deadline, one request in flight
 * per device, each request to the next server process in turn. Each device writes its own
 * `todos` with strictly increasing versions and vectors, so every push must come back
 * `applied`; anything else counts as an error. Signs its tokens, says `ready`, and starts on
 * the parent's `go`, so every client process loads the servers over the same window.
 */
import { Agent, request } from 'node:http';
import { encodeHlc, PROTOCOL_HEADER, PROTOCOL_VERSION, type PullResponse, type PushResponse } from '@ferry/protocol';
import { signDevToken } from '@ferry/server';

interface Args {
  urls: string[];
  secret: string;
  clients: number;
  firstUser: number;
  durationMs: number;
}

/** A virtual device: its identity, clock, per-entity versions and pull cursor. */
interface Device {
  clientId: string;
  headers: Record<string, string>;
  wallTime: number;
  counter: number;
  writes: number;
  versions: number[];
  cursor: number;
  turn: number;
}

/** Entities per device: its first write to each is a CREATE, later ones are UPDATEs. */
const ENTITIES = 10;
const TIMEOUT_MS = 10_000;

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const agent = new Agent({ keepAlive: true, maxSockets: args.clients });
const pushes: number[] = [];
const pulls: number[] = [];
const errors: Record<string, number> = {};

function fail(key: string): void {
  errors[key] = (errors[key] ?? 0) + 1;
}

/** One HTTP exchange on a kept-alive socket: the status and the parsed JSON body. */
function send(url: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const options = {
      method: body === undefined ? 'GET' : 'POST',
      headers,
      agent,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    };
    const req = request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        } catch (error) {
          reject(error);
        }
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function newDevice(index: number): Promise<Device> {
  const user = `capacity-${args.firstUser + index}`;
  const token = await signDevToken(args.secret, user, { expiresIn: '1h' });
  return {
    clientId: `${user}-device`,
    headers: { authorization: `Bearer ${token}`, [PROTOCOL_HEADER]: String(PROTOCOL_VERSION) },
    wallTime: 0,
    counter: 0,
    writes: 0,
    versions: Array.from({ length: ENTITIES }, () => 0),
    cursor: 0,
    turn: index,
  };
}

/** The device's next write, as its client engine would record it: a fresh HLC, version + 1. */
function nextChange(device: Device) {
  const now = Date.now();
  if (now > device.wallTime) {
    device.wallTime = now;
    device.counter = 0;
  } else {
    device.counter += 1;
  }
  const hlc = encodeHlc({ wallTime: device.wallTime, counter: device.counter, node: device.clientId });
  const entity = device.writes % ENTITIES;
  const version = (device.versions[entity] as number) + 1;
  device.versions[entity] = version;
  device.writes += 1;
  return {
    id: `${hlc}.${device.writes.toString(36)}`,
    entityType: 'todos',
    entityId: `todo-${entity}`,
    operation: version === 1 ? 'CREATE' : 'UPDATE',
    data:
      version === 1
        ? { title: `todo ${entity}`, completed: false, order: entity }
        : { title: `todo ${entity} v${version}` },
    timestamp: device.wallTime,
    hlc,
    version,
    vector: { [device.clientId]: version },
    clientId: device.clientId,
  };
}

/** Times `exchange` into `into` when it returns no error key; counts the error otherwise. */
async function timed(into: number[], kind: string, exchange: () => Promise<string | undefined>): Promise<void> {
  const started = performance.now();
  try {
    const error = await exchange();
    if (error === undefined) into.push(performance.now() - started);
    else fail(`${kind} ${error}`);
  } catch (error) {
    fail(`${kind} ${(error as NodeJS.ErrnoException).code ?? (error as Error).name}`);
  }
}

function nextUrl(device: Device): string {
  return args.urls[device.turn++ % args.urls.length] as string;
}

async function push(device: Device): Promise<void> {
  const body = JSON.stringify({ clientId: device.clientId, changes: [nextChange(device)] });
  const headers = { ...device.headers, 'content-type': 'application/json' };
  await timed(pushes, 'push', async () => {
    const reply = await send(`${nextUrl(device)}/v1/push`, headers, body);
    if (reply.status !== 200) return String(reply.status);
    const status = (reply.body as PushResponse).results[0]?.status;
    return status === 'applied' ? undefined : String(status);
  });
}

async function pull(device: Device): Promise<void> {
  await timed(pulls, 'pull', async () => {
    const reply = await send(`${nextUrl(device)}/v1/pull?cursor=${device.cursor}&limit=100`, device.headers);
    if (reply.status !== 200) return String(reply.status);
    device.cursor = (reply.body as PullResponse).cursor;
    return undefined;
  });
}

async function run(device: Device, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    await push(device);
    if (Date.now() < deadline) await pull(device);
  }
}

const devices = await Promise.all(Array.from({ length: args.clients }, (_, index) => newDevice(index)));
process.on('message', async (message: { type: string }) => {
  if (message.type !== 'go') return;
  const cpuBefore = process.cpuUsage();
  const deadline = Date.now() + args.durationMs;
  await Promise.all(devices.map((device) => run(device, deadline)));
  const cpu = process.cpuUsage(cpuBefore);
  // Exit once the result is flushed: a large message sent just before exit would be lost.
  process.send?.({ type: 'result', pushes, pulls, errors, cpuMs: (cpu.user + cpu.system) / 1000 }, () =>
    process.exit(0),
  );
});
process.send?.({ type: 'ready' });
