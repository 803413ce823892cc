import {
  COMPACT_RECORDS,
  type CompactServerRecord,
  compactRecord,
  LIMITS,
  PROTOCOL_VERSION,
  PullQuerySchema,
  type PullResponse,
  RECORDS_HEADER,
  type ServerConfig,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@ferry/protocol';
import type { FastifyInstance } from 'fastify';
import * as v from 'valibot';
import { HttpError } from '../errors.js';
import { noteBatchResults, notePulled } from '../observability/requestOutcome.js';
import { applyPush } from '../push/applyPush.js';
import { parsePushRequest } from '../push/parsePushRequest.js';
import { compactPushResponse, wantsCompactAck } from '../push/pushAck.js';
import { fastPullQuery } from './fastPullQuery.js';
import { multiPull, requestSpaceAccess } from './multiPull.js';
import { parseInput, queryInt, requireEntityType } from './parseInput.js';
import { privateScope } from './privateScope.js';
import type { RouteContext } from './RouteContext.js';

const ChangesQuerySchema = v.strictObject({
  since: v.optional(queryInt('since', 0, Number.MAX_SAFE_INTEGER), '0'),
  limit: v.optional(queryInt('limit', 1, LIMITS.maxPullLimit), String(LIMITS.defaultPullLimit)),
});

/** A `GET /v1/pull` answer, whose records may be compact when the client asked for them. */
type CompactPullResponse = Omit<PullResponse, 'changes'> & {
  changes: Array<PullResponse['changes'][number] | CompactServerRecord>;
};

/** How a stored-JSON pull answer begins. */
const CHANGES_HEAD = Buffer.from('{"changes":[');

/** The body of `GET /v1/config`: what a client learns on connect. Needs no token. */
export function serverConfig(ctx: RouteContext): ServerConfig {
  return {
    protocolVersion: PROTOCOL_VERSION,
    supportedVersions: [...SUPPORTED_PROTOCOL_VERSIONS],
    entityTypes: [...ctx.schema.entities.keys()],
    conflictStrategies: { ...ctx.conflictStrategies },
    limits: {
      maxBodyBytes: LIMITS.maxBodyBytes,
      maxChangesPerPush: LIMITS.maxChangesPerPush,
      maxPullLimit: LIMITS.maxPullLimit,
    },
    serverTime: ctx.now(),
  };
}

/**
 * The authenticated sync routes: `POST /v1/push`, `POST /v1/pull` (every space of the user),
 * `GET /v1/pull` (the private space), `GET /v1/changes` (the private space), `POST /v1/batch`.
 */
export function registerSyncRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/push', async (request) => {
    const compact = wantsCompactAck(request.query);
    const push = parsePushRequest(request.body);
    const response = await applyPush(ctx.apply, requestSpaceAccess(request, ctx), push.entries);
    return compact ? compactPushResponse(push.entries, response) : response;
  });

  app.post('/batch', async (request) => {
    const push = parsePushRequest(request.body);
    const response = await applyPush(ctx.apply, requestSpaceAccess(request, ctx), push.entries);
    noteBatchResults(request, response.results);
    const failed = response.results.flatMap((result) => {
      if (result.status === 'rejected' && result.error) return [{ changeId: result.changeId, error: result.error }];
      if (result.status === 'conflict') {
        const message = `Change ${result.changeId} was made on a stale copy of the entity; pull and resolve`;
        return [{ changeId: result.changeId, error: { code: 'CONFLICT', message, retryable: false } }];
      }
      return [];
    });
    return { success: failed.length === 0, failed };
  });

  app.post('/pull', async (request) => multiPull(ctx, requestSpaceAccess(request, ctx), request.body));

  // The private space only: what protocol v1 clients have always used.
  app.get('/pull', async (request, reply): Promise<CompactPullResponse | Buffer> => {
    const scope = privateScope(request);
    const query = fastPullQuery(request.query) ?? parseInput(PullQuerySchema, request.query);
    const cursor = Number(query.cursor);
    const limit = Number(query.limit);
    if (limit < 1 || limit > LIMITS.maxPullLimit) {
      throw HttpError.of('VALIDATION_ERROR', `limit must be between 1 and ${LIMITS.maxPullLimit}`);
    }
    let types: string[] | undefined;
    if (query.types !== undefined) {
      types = query.types.split(',').map((type) => type.trim());
      if (types.some((type) => type === '')) {
        throw HttpError.of('VALIDATION_ERROR', 'types must be a comma-separated list of entity types');
      }
      for (const type of types) requireEntityType(ctx.schema, type);
    }
    const snapshot = query.snapshot === '1';
    // The bulk path of an initial sync, where the storage has one: stored JSON goes out as
    // stored, never parsed and re-serialised (a body equal to the generic path's below).
    // Compact records (docs/protocol.md): asked for by a request header, which servers before it
    // ignore, so an older server simply answers with whole records.
    const compact = request.headers[RECORDS_HEADER] === COMPACT_RECORDS;
    const json = snapshot ? undefined : ctx.storage.pullJson?.(scope, { cursor, limit, types, compact });
    if (json) {
      const next = json.lastSeq ?? cursor;
      notePulled(request, json.count, next);
      // The header the object path's serialiser sets, so both paths answer alike.
      reply.type('application/json; charset=utf-8');
      const tail = `],"cursor":${next},"hasMore":${json.hasMore},"serverTime":${ctx.now()}}`;
      return Buffer.concat([CHANGES_HEAD, json.records, Buffer.from(tail)]);
    }
    const page = await ctx.storage.pull(scope, { cursor, limit, types, snapshot });
    const last = page.items.at(-1);
    return {
      changes: compact ? page.items.map(compactRecord) : page.items,
      cursor: page.cursor ?? last?.seq ?? cursor,
      hasMore: page.hasMore,
      serverTime: ctx.now(),
      ...(page.horizon === undefined ? {} : { horizon: page.horizon }),
    };
  });

  app.get('/changes', async (request) => {
    const scope = privateScope(request);
    const query = parseInput(ChangesQuerySchema, request.query);
    const page = await ctx.storage.changesSince(scope, { since: query.since, limit: query.limit });
    return { changes: page.items, cursor: page.items.at(-1)?.seq ?? query.since, hasMore: page.hasMore };
  });
}
