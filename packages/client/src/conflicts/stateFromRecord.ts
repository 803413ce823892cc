import { decodeHlc, type ServerRecord } from '@ferry/protocol';
import type { VersionedEntity } from './types.js';

/**
 * The server's copy of an entity as one side of a conflict. A record has no `timestamp` of
 * its own: it is the wall-clock part of the record's HLC.
 *
 * @example
 * const conflict = detector.detectConflict(localChange, stateFromRecord(pulledRecord));
 */
export function stateFromRecord(record: ServerRecord): VersionedEntity {
  return {
    entityType: record.entityType,
    entityId: record.entityId,
    data: record.deleted ? null : record.data,
    deleted: record.deleted,
    hlc: record.hlc,
    timestamp: decodeHlc(record.hlc).wallTime,
    vector: record.vector,
    fieldHlcs: record.fieldHlcs,
    clientId: record.clientId,
  };
}
