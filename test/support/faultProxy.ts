/**
 * A real HTTP proxy on 127.0.0.1 between devices and the server that misbehaves on request:
 * it can reset a connection before forwarding, lose the response after the server committed,
 * delay, or answer 500/503/429 itself. Faults are queued per route and used once each, so a
 * test states exactly what goes wrong and the rest of the traffic flows untouched.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does to one matching request. */
export type Fault =
  /** Resets the connection without forwarding: the server never sees the request. */
  | { kind: 'reset' }
  /** Forwards, lets the server answer (and commit), then resets instead of relaying the answer. */
  | { kind: 'lose-response' }
  /** Waits `ms` before forwarding. */
  | { kind: 'delay'; ms: number }
  /** Answers `status` itself without forwarding, with optional headers (e.g. Retry-After). */
  | { kind: 'status'; status: number; headers?: Record<string, string> };

/** One request as the proxy saw it. */
export interface ProxiedRequest {
  method: string;
  path: string;
  fault: Fault['kind'] | null;
}

/** A running proxy. */
export interface FaultProxy {
  url: string;
  /** Every request, in arrival order. */
  log: ProxiedRequest[];
  /** Queues faults for requests whose `METHOD /path` (query excluded) equals `route`. */
  inject(route: string, ...faults: Fault[]): void;
  /** Requests seen for `route` so far. */
  count(route: string): number;
  close(): Promise<void>;
}

/** Options of a fault proxy. */
export interface FaultProxyOptions {
  /**
   * A body limit of the proxy's own, smaller than the server's: a request whose
   * `content-length` is larger is answered 413 PAYLOAD_TOO_LARGE (`'413'`), or has its
   * connection cut before the body is read (`'reset'`), as some load balancers do.
   */
  bodyLimit?: { bytes: number; answer: '413' | 'reset' };
}

/** Starts a proxy in front of `target` (e.g. `http://127.0.0.1:8787`). */
export async function startFaultProxy(target: string, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const upstream = new URL(target);
  const queues = new Map<string, Fault[]>();
  const log: ProxiedRequest[] = [];

  const forward = (
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const out = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
          timeout: 10_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      out.on('timeout', () => out.destroy(new Error('upstream timed out')));
      out.on('error', reject);
      out.end(body);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const limit = options.bodyLimit;
    if (limit && Number(req.headers['content-length'] ?? 0) > limit.bytes) {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      log.push({ method: req.method ?? 'GET', path, fault: limit.answer === 'reset' ? 'reset' : 'status' });
      if (limit.answer === 'reset') return void req.socket.destroy();
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
      const error = { code: 'PAYLOAD_TOO_LARGE', message: 'Request body is too large', retryable: false };
      return void res.end(JSON.stringify({ error }));
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = `${req.method} ${path}`;
    const fault = queues.get(route)?.shift() ?? null;
    log.push({ method: req.method ?? 'GET', path, fault: fault?.kind ?? null });
    if (fault?.kind === 'reset') return void req.socket.destroy();
    if (fault?.kind === 'status') {
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
      const code = fault.status === 429 ? 'RATE_LIMITED' : fault.status === 503 ? 'UNAVAILABLE' : 'INTERNAL';
      return void res.end(JSON.stringify({ error: { code, message: `injected ${fault.status}`, retryable: true } }));
    }
    if (fault?.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, fault.ms));
    const answer = await forward(req, Buffer.concat(chunks));
    if (fault?.kind === 'lose-response') return void req.socket.destroy();
    const headers = { ...answer.headers };
    delete headers['transfer-encoding'];
    delete headers.connection;
    res.writeHead(answer.status, headers);
    res.end(answer.body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  // A reset answer must not leave a keep-alive socket half open between tests.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    inject(route, ...faults) {
      queues.set(route, [...(queues.get(route) ?? []), ...faults]);
    },
    count: (route) => log.filter((entry) => `${entry.method} ${entry.path}` === route).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
