import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROTOCOL_HEADER } from '@ferry/protocol';
import { createServer, defaultSchema, type FerryServer, signDevToken } from '@ferry/server';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Raw bytes at the server's socket: valid requests cut, spliced and sprinkled with bytes that
 * break HTTP framing. Whatever layer answers (Node's parser, Fastify, the routes), every error
 * response is `{ error: { code, message, retryable } }` JSON, and the server stays up.
 */
const SECRET = 'http-fuzz-secret-that-is-long-enough-for-hs256';
const CASES = 2000;

let dir: string;
let server: FerryServer;
let port: number;
let token: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-http-fuzz-'));
  server = await createServer({ dbPath: join(dir, 'ferry.db'), schema: defaultSchema, auth: { secret: SECRET } });
  port = Number(new URL((await server.listen({ port: 0, host: '127.0.0.1' })).url).port);
  token = await signDevToken(SECRET, 'alice', { expiresIn: '1h' });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

function templates(): string[] {
  const push = JSON.stringify({
    clientId: 'fuzzer',
    changes: [
      {
        id: 'fuzz-1',
        entityType: 'todos',
        entityId: 'e1',
        operation: 'CREATE',
        data: { title: 'x' },
        timestamp: 1,
        hlc: '000000000000001-000000-fuzzer',
        version: 1,
        vector: { fuzzer: 1 },
        clientId: 'fuzzer',
      },
    ],
  });
  const auth = `Authorization: Bearer ${token}\r\n${PROTOCOL_HEADER}: 1\r\n`;
  return [
    'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
    `GET /v1/pull?cursor=0&limit=10 HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}\r\n`,
    `POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}Content-Type: application/json\r\nContent-Length: ${push.length}\r\n\r\n${push}`,
    `POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${push.length.toString(16)}\r\n${push}\r\n0\r\n\r\n`,
    `PUT /v1/entities/todos/e1 HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}Content-Type: application/json\r\nContent-Length: 13\r\n\r\n{"title":"y"}`,
  ];
}

/** Bytes that matter to an HTTP/1.1 parser. */
const framingBytes = fc.constantFrom(
  '\r\n',
  '\n',
  '\r',
  '\r\n\r\n',
  ' ',
  ':',
  '\u0000',
  '\u007f',
  'ÿ',
  'Transfer-Encoding: chunked\r\n',
  'Content-Length: 99999999999\r\n',
  'Content-Length: -1\r\n',
  `X-Big: ${'b'.repeat(17_000)}\r\n`,
  'Expect: 100-continue\r\n',
  'Connection: upgrade\r\nUpgrade: websocket\r\n',
  'HTTP/1.0',
  'GET / HTTP/1.1\r\n\r\n',
);

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(framingBytes, fc.string()) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
);

const rawRequest = fc
  .record({ template: fc.nat(), mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }) })
  .map(({ template, mutations }) => {
    const all = templates();
    let text = all[template % all.length] as string;
    for (const m of mutations) {
      const at = m.at % (text.length + 1);
      if (m.kind === 'insert') text = text.slice(0, at) + m.text + text.slice(at);
      else if (m.kind === 'delete') text = text.slice(0, at) + text.slice(at + m.length);
      else text = text.slice(0, at);
    }
    return text;
  });

/** Sends `text`, half-closes, and returns everything the server wrote before closing (bounded). */
async function exchange(text: string): Promise<Buffer> {
  const socket = connect(port, '127.0.0.1');
  socket.setTimeout(3000, () => socket.destroy());
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => undefined);
  socket.end(Buffer.from(text, 'latin1'));
  await once(socket, 'close');
  return Buffer.concat(chunks);
}

interface Parsed {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Every complete response in `bytes` (Content-Length or chunked framing). */
function parseResponses(bytes: Buffer, headRequest: boolean): Parsed[] {
  const text = bytes.toString('latin1');
  const responses: Parsed[] = [];
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end < 0) throw new Error(`Truncated response head: ${JSON.stringify(text.slice(at, at + 200))}`);
    const [statusLine = '', ...lines] = text.slice(at, end).split('\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine)?.[1]);
    if (!(status >= 100)) throw new Error(`Not a status line: ${JSON.stringify(statusLine)}`);
    const headers = Object.fromEntries(
      lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
    );
    at = end + 4;
    let body = '';
    if (headRequest || status === 204 || status === 304 || status < 200) {
      // No body.
    } else if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const lineEnd = text.indexOf('\r\n', at);
        const size = Number.parseInt(text.slice(at, lineEnd), 16);
        at = lineEnd + 2;
        if (size === 0) {
          at += 2;
          break;
        }
        body += text.slice(at, at + size);
        at += size + 2;
      }
    } else {
      const length = Number(headers['content-length'] ?? 0);
      body = text.slice(at, at + length);
      at += length;
    }
    responses.push({ status, headers, body });
  }
  return responses;
}

describe('raw HTTP bytes at the socket', () => {
  it(`answers ${CASES} mangled requests with the error shape (or a valid 2xx), and stays up`, async () => {
    await fc.assert(
      fc.asyncProperty(rawRequest, async (text) => {
        const bytes = await exchange(text);
        const what = `${JSON.stringify(text.slice(0, 160))} → ${JSON.stringify(bytes.toString('latin1').slice(0, 300))}`;
        const responses = parseResponses(bytes, text.startsWith('HEAD '));
        for (const response of responses) {
          expect(response.status, what).toBeLessThan(500);
          if (response.status < 400) continue;
          expect(response.headers['content-type'], what).toMatch(/^application\/json/);
          const body = JSON.parse(response.body) as { error?: Record<string, unknown> };
          expect(Object.keys(body), what).toEqual(['error']);
          expect(typeof body.error?.code, what).toBe('string');
          expect(typeof body.error?.message, what).toBe('string');
          expect(typeof body.error?.retryable, what).toBe('boolean');
        }
      }),
      { numRuns: CASES, seed: 20261205, endOnFailure: true },
    );
    const health = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(5000) });
    expect(await health.json()).toEqual({ status: 'ok' });
  }, 120_000);
});
