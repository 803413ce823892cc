import type { FastifyRequest } from 'fastify';
import { requestState } from '../requestState.js';
import type { ServerSchema } from '../schema/parseSchema.js';
import { redactReason } from './redactError.js';

/** What one sync request did, in counts and ids only: never a record's contents. */
export interface RequestOutcome {
  applied?: number;
  duplicate?: number;
  conflict?: number;
  rejected?: number;
  /** Records served by a pull. */
  served?: number;
  /** Shared spaces the request touched. */
  spaces?: string[];
}

/** One pushed change's fate, for the per-entity-type metrics. */
export interface ChangeFate {
  entityType: string;
  status: 'applied' | 'duplicate' | 'conflict' | 'rejected';
  /** For a conflict: update-update, update-delete or delete-update. */
  conflictType?: string;
  /** For a rejection: its error code and message. */
  code?: string;
  message?: string;
  changeId?: string;
  /** Shared space of the change; absent for the private space. */
  space?: string;
  /** Sequence the change was committed at (applied changes). */
  seq?: number;
}

/** Where a pull left a device, per space (`null`: the private space). */
export interface PulledCursor {
  space: string | null;
  cursor: number;
}

/** Everything the observability hooks learn from one request's body and answer. */
export interface ObservedRequest {
  outcome: RequestOutcome;
  fates: ChangeFate[];
  cursors: PulledCursor[];
  clientId?: string;
  /** `/v1/batch` answers with failures only; its handler keeps the full push results here. */
  batchResults?: readonly unknown[];
}

/** What the hooks noted about `request` so far (created on first use). */
export function observed(request: FastifyRequest): ObservedRequest {
  const state = requestState(request);
  state.note ??= { outcome: {}, fates: [], cursors: [] };
  return state.note;
}

/**
 * What a private-space pull answered with a prebuilt JSON string served (its handler calls this:
 * the hooks only read answers that are still objects).
 */
export function notePulled(request: FastifyRequest, served: number, cursor: number): void {
  const note = observed(request);
  note.outcome.served = (note.outcome.served ?? 0) + served;
  note.cursors.push({ space: null, cursor });
}

/**
 * Keeps the full push results of a `/v1/batch` request (its answer lists failures only), so its
 * changes are counted by outcome and entity type exactly as a `/v1/push`'s.
 */
export function noteBatchResults(request: FastifyRequest, results: readonly unknown[]): void {
  observed(request).batchResults = results;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The entity type as a metric label: declared types only, so a client cannot mint label values. */
export function typeLabel(schema: ServerSchema, type: unknown): string {
  return typeof type === 'string' && schema.entities.has(type) ? type : 'undeclared';
}

function conflictType(change: Record<string, unknown>, record: unknown): string {
  if (change.operation === 'DELETE') return 'delete-update';
  if (isObject(record) && record.deleted === true) return 'update-delete';
  return 'update-update';
}

function addSpace(outcome: RequestOutcome, space: unknown): void {
  if (typeof space !== 'string') return;
  outcome.spaces ??= [];
  if (!outcome.spaces.includes(space) && outcome.spaces.length < 20) outcome.spaces.push(space);
}

/**
 * Reads a sync route's parsed body and answer object (before serialization) into counts.
 * Only shapes are read: ids, statuses, codes and lengths.
 */
export function observeAnswer(request: FastifyRequest, route: string, schema: ServerSchema, payload: unknown): void {
  if (!isObject(payload)) return;
  const note = observed(request);
  const body = isObject(request.body) ? request.body : {};
  if (typeof body.clientId === 'string') note.clientId = body.clientId;
  const changes = body.changes;
  const results = route === '/v1/push' ? payload.results : route === '/v1/batch' ? note.batchResults : undefined;
  if (Array.isArray(results) && Array.isArray(changes)) {
    results.forEach((result: unknown, index) => {
      const change: unknown = changes[index];
      if (!isObject(result) || !isObject(change)) return;
      const status = result.status;
      if (status !== 'applied' && status !== 'duplicate' && status !== 'conflict' && status !== 'rejected') return;
      note.outcome[status] = (note.outcome[status] ?? 0) + 1;
      addSpace(note.outcome, change.space);
      const fate: ChangeFate = { entityType: typeLabel(schema, change.entityType), status };
      if (typeof result.changeId === 'string') fate.changeId = result.changeId;
      if (typeof change.space === 'string') fate.space = change.space;
      // A compact acknowledgement (`?ack=compact`) carries the record's seq itself.
      const seq = isObject(result.record) ? result.record.seq : result.seq;
      if (status === 'applied' && typeof seq === 'number') fate.seq = seq;
      if (status === 'conflict') fate.conflictType = conflictType(change, result.record);
      if (status === 'rejected' && isObject(result.error)) {
        fate.code = String(result.error.code);
        fate.message = redactReason(String(result.error.message)).slice(0, 200);
      }
      note.fates.push(fate);
    });
  } else if (route === '/v1/pull' && Array.isArray(payload.pages)) {
    // POST /v1/pull: spaces the device named are at its cursor unless a page moved them.
    if (typeof body.private === 'number') note.cursors.push({ space: null, cursor: body.private });
    if (isObject(body.spaces)) {
      for (const [space, cursor] of Object.entries(body.spaces)) {
        if (typeof cursor === 'number') note.cursors.push({ space, cursor });
      }
    }
    let served = 0;
    for (const page of payload.pages) {
      if (!isObject(page)) continue;
      served += Array.isArray(page.changes) ? page.changes.length : 0;
      const space = typeof page.space === 'string' ? page.space : null;
      if (space !== null) addSpace(note.outcome, space);
      if (typeof page.cursor === 'number') note.cursors.push({ space, cursor: page.cursor });
    }
    note.outcome.served = (note.outcome.served ?? 0) + served;
  } else if ((route === '/v1/pull' || route === '/v1/changes') && Array.isArray(payload.changes)) {
    note.outcome.served = (note.outcome.served ?? 0) + payload.changes.length;
    if (route === '/v1/pull' && typeof payload.cursor === 'number') {
      note.cursors.push({ space: null, cursor: payload.cursor });
    }
  }
}
