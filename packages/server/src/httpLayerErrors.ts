import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { type ErrorCode, errorBody } from '@ferry/protocol';
import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors.js';

/**
 * Errors Node's HTTP parser reports before Fastify sees a request (broken framing, headers
 * past `maxHeaderSize`, a request that took too long), as the wire code and message to send.
 */
function parserFailure(error: NodeJS.ErrnoException): { status: number; code: ErrorCode; message: string } {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        code: 'HEADERS_TOO_LARGE',
        message: 'Request headers are larger than the server accepts (16 KiB); send a shorter token or fewer headers',
      };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'Chunk extensions are larger than the server accepts' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, code: 'REQUEST_TIMEOUT', message: 'The request was not received in time; send it again' };
    default:
      return {
        status: 400,
        code: 'BAD_REQUEST',
        message: `Malformed HTTP request (${String(error.code ?? 'parse error').slice(0, 40)}); the server could not read it`,
      };
  }
}

/** A complete HTTP/1.1 response with a JSON error body, for writing straight to a socket. */
function rawResponse(status: number, code: ErrorCode, message: string): string {
  const body = JSON.stringify(errorBody(code, message));
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}

/**
 * Fastify's `clientErrorHandler`: Node's parser failed, so there is no request or reply, and
 * the answer goes straight to the socket, in the same `{ error: { code, message, retryable } }`
 * shape as every other error (Fastify's default writes its own shape).
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  // A reset peer cannot be answered.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  // As Node's own handler does: never write into a response that has already started.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const { status, code, message } = parserFailure(error);
    socket.write(rawResponse(status, code, message));
  }
  socket.destroy(error);
}

/**
 * The answers Node and Fastify would otherwise send themselves, in the error shape: a
 * missing `Host` (Node: an empty 400), an `Expect` other than `100-continue` (Node: an empty
 * 417), and a request that reaches a closing server (Fastify: its own 503 body). Needs
 * `return503OnClosing: false` and `http: { requireHostHeader: false }` on the instance.
 */
export function installHttpLayerAnswers(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (request, reply) => {
    if (closing) {
      // Keep-alive or pipelined requests still arrive while in-flight ones finish.
      reply.header('connection', 'close').header('retry-after', '1');
      throw HttpError.of('UNAVAILABLE', 'The server is shutting down; retry in a moment');
    }
    // Node's own check, which skips upgrades (a WebSocket handshake reaches its 'upgrade' event instead).
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined && !request.headers.upgrade) {
      throw HttpError.of('BAD_REQUEST', 'An HTTP/1.1 request needs a Host header');
    }
  });
  // With a listener, Node leaves the answer to an unmet expectation to us.
  app.server.on('checkExpectation', (request, response) => {
    const expectation = String(request.headers.expect ?? '').slice(0, 64);
    const body = JSON.stringify(
      errorBody('BAD_REQUEST', `Expect: ${expectation} is not supported; send the request without it`),
    );
    response.writeHead(417, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      connection: 'close',
    });
    response.end(body);
  });
}
