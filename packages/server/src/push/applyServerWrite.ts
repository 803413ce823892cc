import { randomUUID } from 'node:crypto';
import {
  type Change,
  decodeHlc,
  incrementVector,
  type Operation,
  type RecordData,
  type ServerRecord,
} from '@ferry/protocol';
import { HttpError } from '../errors.js';
import type { ApplyDeps } from './applyPush.js';
import { decideChange } from './decideChange.js';
import { SERVER_CLIENT_ID } from './parsePushRequest.js';

/** A write made through the REST routes rather than pushed by a device. */
export interface ServerWrite {
  entityType: string;
  entityId: string;
  operation: Operation;
  data: RecordData | null;
}

/**
 * Applies a REST write through the same path as a push, as a change made by the server. Its
 * vector is built from the current record INSIDE the transaction (current + 1 for `server`,
 * at least the write's wall time), so it always dominates and applies. UPDATE and DELETE of a
 * missing or deleted entity are 404; CREATE of an entity that is live is 409 (a tombstone may
 * be created again).
 */
export async function applyServerWrite(deps: ApplyDeps, scope: string, write: ServerWrite): Promise<ServerRecord> {
  const hlc = deps.decide.clock.now();
  const draft: Change = {
    id: `srv-${randomUUID()}`,
    entityType: write.entityType,
    entityId: write.entityId,
    operation: write.operation,
    data: write.data,
    timestamp: decodeHlc(hlc).wallTime,
    hlc,
    version: 1,
    vector: {},
    clientId: SERVER_CLIENT_ID,
  };
  let refusal: HttpError | undefined;
  const outcome = await deps.storage.applyChanges(scope, [draft], ({ current, alreadyApplied }) => {
    const live = current !== null && !current.deleted;
    // Decided inside the transaction, so a concurrent write cannot slip between check and write.
    if (write.operation !== 'CREATE' && !live) {
      refusal = HttpError.of('NOT_FOUND', `${write.entityType} "${write.entityId}" does not exist`);
    } else if (write.operation === 'CREATE' && live) {
      refusal = HttpError.of(
        'CONFLICT',
        `${write.entityType} "${write.entityId}" already exists; change it with PUT /v1/entities/${write.entityType}/${encodeURIComponent(write.entityId)}`,
      );
    }
    if (refusal) return { kind: 'skip', result: { changeId: draft.id, status: 'rejected' } };
    // The server's component never goes back, even for an id whose history compaction removed:
    // a restarted count would look older than the tombstone devices still hold, and they would
    // ignore the write for good. The write's wall time is such a floor.
    const vector = incrementVector(current?.vector ?? {}, SERVER_CLIENT_ID);
    vector[SERVER_CLIENT_ID] = Math.max(vector[SERVER_CLIENT_ID] ?? 0, draft.timestamp);
    const change = { ...draft, version: (current?.version ?? 0) + 1, vector };
    return decideChange({ change, current, alreadyApplied }, deps.decide);
  });
  if (refusal) throw refusal;
  const result = outcome.results[0];
  if (result?.status === 'rejected' && result.error) {
    throw HttpError.of(
      result.error.code === 'UNKNOWN_ENTITY_TYPE' ? 'UNKNOWN_ENTITY_TYPE' : 'VALIDATION_ERROR',
      result.error.message,
    );
  }
  if (result?.status !== 'applied' || !result.record) {
    throw new Error(`Server write ${draft.id} was not applied (${result?.status ?? 'no result'})`);
  }
  return result.record;
}
