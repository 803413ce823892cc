import {
  MEMBER_TYPE,
  MultiPullRequestSchema,
  type MultiPullResponse,
  SPACE_TYPE,
  type SpacePage,
} from '@ferry/protocol';
import type { FastifyRequest } from 'fastify';
import { requestClaims, requestScope } from '../auth/requestScope.js';
import { HttpError } from '../errors.js';
import { createSpaceAccess, type SpaceAccess } from '../spaces/SpaceAccess.js';
import { CursorExpiredError } from '../storage/ServerStorage.js';
import { parseInput, requireEntityType } from './parseInput.js';
import type { RouteContext } from './RouteContext.js';

/** The {@link SpaceAccess} of an authenticated request. */
export function requestSpaceAccess(request: FastifyRequest, ctx: RouteContext): SpaceAccess {
  return createSpaceAccess(ctx.storage, ctx.membership, requestScope(request), requestClaims(request));
}

/**
 * `POST /v1/pull`: one request for every space of the user. One storage query lists the
 * user's spaces with their current seqs; only the spaces whose seq is past the device's cursor
 * are read, at most `limit` records in all (bounded memory), so an idle pull of a user in
 * 1,000 spaces costs that one query and a private-space check.
 *
 * A space of the user that the checkpoint does not name is pulled from 0 as snapshot pages
 * (backfill after a grant). A checkpoint id the user is not a member of is ignored: the
 * membership list in the answer tells the device to purge it.
 */
export async function multiPull(ctx: RouteContext, access: SpaceAccess, body: unknown): Promise<MultiPullResponse> {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw HttpError.of('BAD_REQUEST', 'Request body must be a JSON object { private?, spaces?, limit?, types? }');
  }
  const request = parseInput(MultiPullRequestSchema, body);
  for (const type of request.types ?? []) requireEntityType(ctx.schema, type);
  // A partial pull still carries the spaces' own records: without them a device could list
  // neither its spaces' names nor their members.
  const types = request.types === undefined ? undefined : [...request.types, SPACE_TYPE, MEMBER_TYPE];
  const memberships = await access.memberships();
  let budget = request.limit;
  let hasMore = false;
  const pages: SpacePage[] = [];

  const snapshots = new Set(request.snapshots ?? []);
  const pullSpace = async (space: string | null, scope: string, cursor: number) => {
    if (budget === 0) {
      hasMore = true;
      return;
    }
    try {
      // From 0 a device holds nothing a removed tombstone could have deleted: a snapshot read,
      // whose last page ends at the horizon so the next pull is not refused. A snapshot longer
      // than a page goes on as one (`snapshots`): its pages carry the horizon, and the device
      // starts over if it rises.
      const snapshot = cursor === 0 || (space !== null && snapshots.has(space));
      const page = await ctx.storage.pull(scope, { cursor, limit: budget, types, snapshot });
      budget -= page.items.length;
      hasMore ||= page.hasMore;
      pages.push({
        space,
        changes: page.items,
        cursor: page.cursor ?? page.items.at(-1)?.seq ?? cursor,
        hasMore: page.hasMore,
        ...(page.horizon === undefined ? {} : { horizon: page.horizon }),
      });
    } catch (error) {
      if (!(error instanceof CursorExpiredError)) throw error;
      // One space's expired cursor must not stop the others: that space alone starts over.
      hasMore = true;
      pages.push({ space, changes: [], cursor: 0, hasMore: true, reset: true });
    }
  };

  if (request.private !== undefined) {
    const seq = await ctx.storage.currentSeq(access.user);
    if (seq > request.private) await pullSpace(null, access.user, request.private);
  }
  for (const space of memberships) {
    const cursor = request.spaces[space.id] ?? 0;
    if (space.seq > cursor) await pullSpace(space.id, space.id, cursor);
  }
  return {
    membership: memberships.map(({ id, name, role }) => ({ id, name, role })),
    pages,
    hasMore,
    serverTime: ctx.now(),
  };
}
