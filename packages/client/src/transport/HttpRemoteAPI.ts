import {
  type Change,
  ChangeSchema,
  COMPACT_RECORDS,
  describeIssues,
  ErrorBodySchema,
  expandCompactRecords,
  expandPushResponse,
  fastPullResponse,
  fastPushAckResponse,
  type MultiPullRequest,
  type MultiPullResponse,
  MultiPullResponseSchema,
  type PullResponse,
  PullResponseSchema,
  PushAckResponseSchema,
  type PushRequest,
  type PushResponse,
  RECORDS_HEADER,
  type RecordData,
  type ServerConfig,
  ServerConfigSchema,
  type ServerRecord,
  ServerRecordSchema,
} from '@ferry/protocol';
import * as v from 'valibot';
import { HttpCaller, type HttpRemoteAPIOptions, protocolError } from './httpCall.js';
import { pushRequestJson } from './pushBody.js';
import type { BatchSyncResponse, PullParams, RemoteAPI, RequestOptions } from './RemoteAPI.js';

export {
  DEFAULT_TIMEOUT_MS,
  type HttpRemoteAPIOptions,
  type TokenProvider,
  type TokenRequest,
} from './httpCall.js';

// `ResultErrorSchema` is not in the protocol barrel; the error body schema carries the same shape.
const BatchSyncResponseSchema = v.object({
  success: v.boolean(),
  failed: v.array(v.object({ changeId: v.string(), error: ErrorBodySchema.entries.error })),
});

// The server adds `seq` to each logged change; ChangeSchema is strict, so `seq` is split off first.
const ChangesPageSchema = v.object({
  changes: v.array(v.looseObject({ seq: v.pipe(v.number(), v.integer(), v.minValue(0)) })),
  cursor: v.pipe(v.number(), v.integer(), v.minValue(0)),
  hasMore: v.boolean(),
});

const RecordsSchema = v.object({ records: v.array(ServerRecordSchema) });

const COMPACT_PULL_HEADERS: Readonly<Record<string, string>> = { [RECORDS_HEADER]: COMPACT_RECORDS };

/** Rebuilds the field stamps of a compact pull page's records (before validation). */
function expandPage(page: unknown): void {
  if (typeof page === 'object' && page !== null) expandCompactRecords((page as { changes?: unknown }).changes);
}

/**
 * The {@link RemoteAPI} over HTTP + JSON, as documented in `docs/protocol.md`.
 *
 * Every request carries the protocol version and the bearer token, runs under a timeout, and
 * every response is validated against the protocol schemas before the engine sees it. Failures
 * are typed: {@link HttpError} (the server answered non-2xx; `code`, `serverCode`, `retryable`,
 * `retryAfterMs` come from the status, body and headers), {@link NetworkError} (no answer),
 * {@link TimeoutError}, {@link AbortError} (cancelled by the caller), and a `SyncError` with
 * code `PROTOCOL_ERROR` (an answer that does not match the protocol, or HTTP 426).
 *
 * @example
 * const api = new HttpRemoteAPI({
 *   baseUrl: 'https://sync.example.com',
 *   getToken: () => auth.currentToken(),
 * });
 * const { changes, cursor, hasMore } = await api.pull({ cursor: 0, limit: 500 });
 */
export class HttpRemoteAPI implements RemoteAPI {
  readonly #http: HttpCaller;

  constructor(options: HttpRemoteAPIOptions) {
    this.#http = new HttpCaller(options);
    // Bound: a transport wrapped as `Object.create(http)` that overrides push and pull (fault
    // injection, schedulers) still reaches the private fields through the newer method.
    this.pullSpaces = this.pullSpaces.bind(this);
  }

  /**
   * Asks for compact acknowledgements (`?ack=compact`, docs/protocol.md): a change the server
   * stored exactly as sent comes back as its record's `version` and `seq`, and the record is
   * rebuilt here from the change, so the engine sees the full form either way. A server that
   * predates them ignores the parameter and answers in full.
   */
  async push(request: PushRequest, options?: RequestOptions): Promise<PushResponse> {
    const json = pushRequestJson(request);
    const text = await this.#http.send({
      method: 'POST',
      path: '/v1/push',
      query: { ack: 'compact' },
      json,
      signal: options?.signal,
    });
    const answer = this.#http.parse('POST /v1/push', text, PushAckResponseSchema, fastPushAckResponse);
    const expanded = expandPushResponse(request.changes, answer);
    if ('problem' in expanded) throw protocolError('POST /v1/push', expanded.problem);
    return expanded.response;
  }

  /**
   * An empty `types` list means no narrowing, the same as leaving it out. Asks for compact
   * records (`ferry-records: compact`, docs/protocol.md): a record whose every field carries the
   * record's own stamp comes without `fieldHlcs`, and the map is rebuilt here before validation,
   * so the engine sees the full form either way. A server that predates the header ignores it.
   */
  async pull(params: PullParams, options?: RequestOptions): Promise<PullResponse> {
    const query = {
      cursor: String(params.cursor),
      limit: params.limit === undefined ? undefined : String(params.limit),
      types: params.types && params.types.length > 0 ? params.types.join(',') : undefined,
      snapshot: params.snapshot ? '1' : undefined,
    };
    const text = await this.#http.send({
      method: 'GET',
      path: '/v1/pull',
      query,
      headers: COMPACT_PULL_HEADERS,
      signal: options?.signal,
    });
    return this.#http.parse('GET /v1/pull', text, PullResponseSchema, fastPullResponse, expandPage);
  }

  async pullSpaces(request: Partial<MultiPullRequest>, options?: RequestOptions): Promise<MultiPullResponse> {
    const text = await this.#http.send({ method: 'POST', path: '/v1/pull', body: request, signal: options?.signal });
    return this.#http.parse('POST /v1/pull', text, MultiPullResponseSchema);
  }

  async getConfig(options?: RequestOptions): Promise<ServerConfig> {
    const text = await this.#http.send({ method: 'GET', path: '/v1/config', signal: options?.signal });
    return this.#http.parse('GET /v1/config', text, ServerConfigSchema);
  }

  /** An empty batch succeeds without a request. All changes must share one `clientId`. */
  async batchSync(changes: Change[], options?: RequestOptions): Promise<BatchSyncResponse> {
    const first = changes[0];
    if (!first) return { success: true, failed: [] };
    const body = { clientId: first.clientId, changes };
    const text = await this.#http.send({ method: 'POST', path: '/v1/batch', body, signal: options?.signal });
    return this.#http.parse('POST /v1/batch', text, BatchSyncResponseSchema);
  }

  /**
   * Every logged change after server sequence `since`, following the server's pages until
   * `hasMore` is false: a silently truncated list would skip changes, which a cursor must never do.
   */
  async getChangesSince(since: number, options?: RequestOptions): Promise<Change[]> {
    const all: Change[] = [];
    let cursor = since;
    for (;;) {
      const query = { since: String(cursor) };
      const text = await this.#http.send({ method: 'GET', path: '/v1/changes', query, signal: options?.signal });
      const page = this.#http.parse('GET /v1/changes', text, ChangesPageSchema);
      for (const [index, { seq: _seq, ...change }] of page.changes.entries()) {
        const parsed = v.safeParse(ChangeSchema, change);
        if (!parsed.success) {
          throw protocolError('GET /v1/changes', `changes.${index}: ${describeIssues(parsed.issues)}`);
        }
        all.push(parsed.output);
      }
      if (!page.hasMore) return all;
      // A server that says "more" without moving its cursor would loop us forever.
      if (page.cursor <= cursor) {
        throw protocolError('GET /v1/changes', `hasMore is true but the cursor did not advance past ${cursor}`);
      }
      cursor = page.cursor;
    }
  }

  /** One page of live records (the server's first page): meant for small reference types. */
  async getAll(entityType: string, options?: RequestOptions): Promise<ServerRecord[]> {
    const path = `/v1/entities/${encodeURIComponent(entityType)}`;
    const text = await this.#http.send({ method: 'GET', path, signal: options?.signal });
    return this.#http.parse(`GET ${path}`, text, RecordsSchema).records;
  }

  async create(entityType: string, data: RecordData, options?: RequestOptions): Promise<ServerRecord> {
    const path = `/v1/entities/${encodeURIComponent(entityType)}`;
    const text = await this.#http.send({ method: 'POST', path, body: data, signal: options?.signal });
    return this.#http.parse(`POST ${path}`, text, ServerRecordSchema);
  }

  async update(
    entityType: string,
    entityId: string,
    data: RecordData,
    options?: RequestOptions,
  ): Promise<ServerRecord> {
    const path = `/v1/entities/${encodeURIComponent(entityType)}/${encodeURIComponent(entityId)}`;
    const text = await this.#http.send({ method: 'PUT', path, body: data, signal: options?.signal });
    return this.#http.parse(`PUT ${path}`, text, ServerRecordSchema);
  }

  async delete(entityType: string, entityId: string, options?: RequestOptions): Promise<void> {
    const path = `/v1/entities/${encodeURIComponent(entityType)}/${encodeURIComponent(entityId)}`;
    await this.#http.send({ method: 'DELETE', path, signal: options?.signal });
  }
}
