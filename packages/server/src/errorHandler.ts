import { ERROR_META, ErrorCode, errorBody } from '@ferry/protocol';
import type { FastifyError, FastifyInstance } from 'fastify';
import { HttpError } from './errors.js';
import { redactError, scrubMessage } from './observability/redactError.js';

/** Fastify's own request errors, mapped to wire codes with messages that say what to fix. */
const FASTIFY_ERRORS: Readonly<Record<string, { code: ErrorCode; message?: string }>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'Send request bodies as JSON with "Content-Type: application/json"',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'BAD_REQUEST' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'BAD_REQUEST' },
  // Fastify reports prototype poisoning with the same error as a syntax error, without a cause.
  FST_ERR_CTP_INVALID_JSON_BODY: {
    code: 'BAD_REQUEST',
    message: 'Request body is not valid JSON, or contains a forbidden "__proto__" or "constructor.prototype" key',
  },
};

/** The first wire code whose status is `status`, for errors that only carry a status. */
function codeForStatus(status: number): ErrorCode {
  const entry = Object.entries(ERROR_META).find(([, meta]) => meta.status === status);
  return entry ? (entry[0] as ErrorCode) : status >= 500 ? ErrorCode.INTERNAL : ErrorCode.BAD_REQUEST;
}

function toHttpError(error: FastifyError | Error): HttpError {
  if (error instanceof HttpError) return error;
  const fastifyError = error as FastifyError;
  const known = fastifyError.code === undefined ? undefined : FASTIFY_ERRORS[fastifyError.code];
  if (known) return HttpError.of(known.code, known.message ?? fastifyError.message, error);
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's 4xx messages (prototype poisoning, bad headers) describe the input, not the server.
    return new HttpError(status, { code: codeForStatus(status), message: fastifyError.message, cause: error });
  }
  return HttpError.of(
    'INTERNAL',
    'Internal server error; try again later (pushes are idempotent, so retrying is safe)',
    error,
  );
}

/**
 * One error handler and one not-found handler for the whole server. Every failure becomes
 * `{ error: { code, message, retryable } }`; a 5xx is logged with its stack (redacted: no values), which
 * never leaves the server.
 */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const httpError = toHttpError(error);
    // Redacted: a database error's detail and a parser's message quote the data that failed.
    if (httpError.status >= 500) {
      request.log.error({ error: redactError(error) }, 'request failed');
    } else if (httpError.cause !== undefined) {
      const reason = httpError.cause instanceof Error ? httpError.cause.message : String(httpError.cause);
      request.log.info({ code: httpError.code, reason: scrubMessage(reason) }, 'request refused');
    }
    return reply.status(httpError.status).send(errorBody(httpError.code, httpError.message));
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(errorBody('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`)),
  );
}
