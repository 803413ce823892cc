import { once } from 'node:events';
import { connect, createServer as createTcpServer, type Socket } from 'node:net';
import { ERROR_META, type ErrorCode, PROTOCOL_HEADER } from '@ferry/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { answerClientError } from './httpLayerErrors.js';
import { startTestServer, type TestServer } from './testing/testServer.js';

/**
 * What Node's HTTP parser and Fastify answer by themselves (broken framing, oversized headers,
 * a missing Host, an unmet Expect, a request reaching a closing server) is answered in the
 * error shape like everything else. Raw sockets on 127.0.0.1, so nothing cleans the bytes up.
 */
let t: TestServer;
let port: number;

beforeEach(async () => {
  t = await startTestServer();
  port = Number(new URL((await t.server.listen({ port: 0, host: '127.0.0.1' })).url).port);
});
afterEach(async () => {
  await t.close();
});

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parses the first HTTP/1.1 response in `text` (Content-Length framed). */
function parseResponse(text: string): RawResponse {
  const split = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = text.slice(0, split).split('\r\n');
  const headers = Object.fromEntries(
    lines.map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
    }),
  );
  const length = Number(headers['content-length']);
  return { status: Number(statusLine.split(' ')[1]), headers, body: text.slice(split + 4, split + 4 + length) };
}

/** Writes `chunks` to a fresh connection and reads until the server closes it (bounded). */
async function exchange(...chunks: string[]): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  socket.setTimeout(5000, () => socket.destroy(new Error('No answer within 5 s')));
  let text = '';
  socket.on('data', (data) => {
    text += data.toString('latin1');
  });
  socket.on('error', () => undefined);
  for (const chunk of chunks) socket.write(chunk);
  await once(socket, 'close');
  return text;
}

function expectErrorShape(response: RawResponse, status: number, code: ErrorCode, message?: RegExp): void {
  expect({ status: response.status, type: response.headers['content-type'] }).toEqual({
    status,
    type: expect.stringMatching(/^application\/json/),
  });
  expect(JSON.parse(response.body)).toEqual({
    error: { code, message: expect.stringMatching(message ?? /\w{5}/), retryable: ERROR_META[code].retryable },
  });
}

const token = 'a'.repeat(20_000);

const PARSER_CASES: Array<[string, string, number, ErrorCode, RegExp?]> = [
  ['a request line that is not HTTP', 'GARBAGE\r\n\r\n', 400, 'BAD_REQUEST', /Malformed HTTP request/],
  ['a method Node does not know', 'BREW /v1/push HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'BAD_REQUEST'],
  ['an unknown HTTP version', 'GET /health HTTP/9.9\r\nHost: x\r\n\r\n', 400, 'BAD_REQUEST'],
  ['a header name with a space', 'GET /health HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n', 400, 'BAD_REQUEST'],
  [
    'a token past the header size limit',
    `GET /v1/pull HTTP/1.1\r\nHost: x\r\n${PROTOCOL_HEADER}: 1\r\nAuthorization: Bearer ${token}\r\n\r\n`,
    431,
    'HEADERS_TOO_LARGE',
    /headers are larger than the server accepts/,
  ],
  [
    'a Content-Length that is not a number',
    'POST /v1/push HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
    400,
    'BAD_REQUEST',
  ],
  [
    'both Content-Length and chunked (request smuggling)',
    'POST /v1/push HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    400,
    'BAD_REQUEST',
  ],
  [
    'a broken chunk size',
    `POST /v1/push HTTP/1.1\r\nHost: x\r\n${PROTOCOL_HEADER}: 1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`,
    400,
    'BAD_REQUEST',
  ],
  ['an HTTP/2 preface on an HTTP/1 port', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 400, 'BAD_REQUEST'],
];

const FRAMEWORK_CASES: Array<[string, string, number, ErrorCode, RegExp?]> = [
  [
    'an HTTP/1.1 request without Host',
    'GET /health HTTP/1.1\r\nConnection: close\r\n\r\n',
    400,
    'BAD_REQUEST',
    /needs a Host header/,
  ],
  [
    'an Expect other than 100-continue',
    'POST /v1/push HTTP/1.1\r\nHost: x\r\nExpect: something\r\nContent-Length: 2\r\n\r\n{}',
    417,
    'BAD_REQUEST',
    /Expect: something is not supported/,
  ],
  [
    'a route that does not exist',
    'OPTIONS /v1/push HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    404,
    'NOT_FOUND',
  ],
  [
    'a plain GET of the WebSocket route',
    'GET /v1/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    400,
    'BAD_REQUEST',
    /is a WebSocket endpoint/,
  ],
];

describe('answers of the HTTP layer, over raw sockets', () => {
  it.each(PARSER_CASES)('answers %s in the error shape', async (_name, request, status, code, message) => {
    expectErrorShape(parseResponse(await exchange(request)), status, code, message);
  });

  it.each(FRAMEWORK_CASES)('answers %s in the error shape', async (_name, request, status, code, message) => {
    expectErrorShape(parseResponse(await exchange(request)), status, code, message);
  });

  it('answers a body-parser failure in the error shape', async () => {
    const auth = `Bearer ${await t.token('alice')}`;
    const body = '{"clientId": ';
    const response = parseResponse(
      await exchange(
        `POST /v1/push HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${PROTOCOL_HEADER}: 1\r\nAuthorization: ${auth}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      ),
    );
    expectErrorShape(response, 400, 'BAD_REQUEST', /not valid JSON/);
  });

  it('answers a request that reaches a closing server with 503 UNAVAILABLE in the error shape', async () => {
    const auth = `Bearer ${await t.token('alice')}`;
    const body = JSON.stringify({ clientId: 'device-a', changes: [] });
    const head =
      `POST /v1/push HTTP/1.1\r\nHost: x\r\n${PROTOCOL_HEADER}: 1\r\nAuthorization: ${auth}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const socket: Socket = connect(port, '127.0.0.1');
    socket.setTimeout(5000, () => socket.destroy(new Error('No answer within 5 s')));
    let text = '';
    socket.on('data', (data) => {
      text += data.toString('latin1');
    });
    socket.on('error', () => undefined);
    // A request in flight keeps the connection open while the server closes; the next one on
    // it arrives at a closing server.
    const received = once(t.server.app.server, 'request');
    socket.write(head + body.slice(0, 5));
    await received;
    const closed = t.server.close();
    // The server stops listening right after the preClose hooks, where the closing flag is set.
    for (let i = 0; i < 500 && t.server.app.server.listening; i++) await new Promise((r) => setTimeout(r, 10));
    expect(t.server.app.server.listening).toBe(false);
    socket.write(`${body.slice(5)}GET /v1/config HTTP/1.1\r\nHost: x\r\n${PROTOCOL_HEADER}: 1\r\n\r\n`);
    await once(socket, 'close');
    await closed;
    const first = parseResponse(text);
    expect(first.status).toBe(400); // the in-flight push finished (an empty push is a 400)
    const second = parseResponse(text.slice(text.indexOf('HTTP/1.1', 1)));
    expectErrorShape(second, 503, 'UNAVAILABLE', /shutting down/);
    expect(second.headers['retry-after']).toBe('1');
  });
});

describe('answerClientError', () => {
  it('answers a request timeout with 408 REQUEST_TIMEOUT, retryable', async () => {
    // Node's request timeouts are checked every 30 s; the handler is driven directly, on a real socket.
    const server = createTcpServer((socket) => {
      // Node adds this before it hands a parser error over; destroy(error) would throw without it.
      socket.on('error', () => undefined);
      const error = Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
      answerClientError(error, socket);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    const client = connect(typeof address === 'object' && address ? address.port : 0, '127.0.0.1');
    let text = '';
    client.on('data', (data) => {
      text += data.toString('latin1');
    });
    client.on('error', () => undefined);
    await once(client, 'close');
    server.close();
    expectErrorShape(parseResponse(text), 408, 'REQUEST_TIMEOUT', /not received in time/);
  });
});
