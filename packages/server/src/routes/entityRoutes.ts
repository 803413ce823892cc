import { randomUUID } from 'node:crypto';
import { ChangeDataSchema, EntityIdSchema, LIMITS, type RecordData } from '@ferry/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import * as v from 'valibot';
import { HttpError } from '../errors.js';
import { applyServerWrite } from '../push/applyServerWrite.js';
import { parseInput, queryInt, requireEntityType } from './parseInput.js';
import { privateScope } from './privateScope.js';
import type { RouteContext } from './RouteContext.js';

const ListQuerySchema = v.strictObject({
  after: v.optional(EntityIdSchema),
  limit: v.optional(queryInt('limit', 1, LIMITS.maxPullLimit), String(LIMITS.defaultPullLimit)),
});
const TypeParamsSchema = v.strictObject({ type: v.string() });
const EntityParamsSchema = v.strictObject({ type: v.string(), id: EntityIdSchema });

/**
 * The body of a REST write, split into the entity id it names (`id`, optional) and the
 * fields to store: `id` names the record, it is never one of its fields.
 */
function bodyData(request: FastifyRequest): { id: string | undefined; data: RecordData } {
  if (typeof request.body !== 'object' || request.body === null || Array.isArray(request.body)) {
    throw HttpError.of('BAD_REQUEST', 'Request body must be a JSON object of fields');
  }
  const { id, ...data } = parseInput(ChangeDataSchema, request.body);
  if (id === undefined) return { id: undefined, data };
  if (typeof id !== 'string') {
    throw HttpError.of('VALIDATION_ERROR', 'id must be a string (it names the entity); omit it to get a generated id');
  }
  return { id: parseInput(EntityIdSchema, id), data };
}

/**
 * A REST surface per entity (`getAll`, `create`, `update`, `delete` on `RemoteAPI`). Every write is a change
 * made by the server and goes through the push apply path, so it lands in the pull feed and
 * the change log like any device's write.
 */
export function registerEntityRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/entities/:type', async (request) => {
    const scope = privateScope(request);
    const { type } = parseInput(TypeParamsSchema, request.params);
    requireEntityType(ctx.schema, type);
    const query = parseInput(ListQuerySchema, request.query);
    const page = await ctx.storage.listRecords(scope, type, query);
    return { records: page.items, hasMore: page.hasMore };
  });

  app.post('/entities/:type', async (request, reply) => {
    const { type } = parseInput(TypeParamsSchema, request.params);
    requireEntityType(ctx.schema, type);
    const { id, data } = bodyData(request);
    const entityId = id ?? randomUUID();
    const record = await applyServerWrite(ctx.apply, privateScope(request), {
      entityType: type,
      entityId,
      operation: 'CREATE',
      data,
    });
    return reply.status(201).send(record);
  });

  app.put('/entities/:type/:id', async (request) => {
    const { type, id } = parseInput(EntityParamsSchema, request.params);
    requireEntityType(ctx.schema, type);
    const body = bodyData(request);
    // A client may send the whole record back, id included; a different id would rename it.
    if (body.id !== undefined && body.id !== id) {
      throw HttpError.of(
        'VALIDATION_ERROR',
        `id in the body ("${body.id.slice(0, 64)}") differs from the URL's; an entity's id cannot change`,
      );
    }
    const { data } = body;
    return applyServerWrite(ctx.apply, privateScope(request), {
      entityType: type,
      entityId: id,
      operation: 'UPDATE',
      data,
    });
  });

  app.delete('/entities/:type/:id', async (request, reply) => {
    const { type, id } = parseInput(EntityParamsSchema, request.params);
    requireEntityType(ctx.schema, type);
    await applyServerWrite(ctx.apply, privateScope(request), {
      entityType: type,
      entityId: id,
      operation: 'DELETE',
      data: null,
    });
    return reply.status(204).send();
  });
}
