import { compareVersions, jsonEqual } from '@ferry/protocol';
import { SyncError } from '../errors.js';
import { foldChanges } from './foldChanges.js';
import {
  type ConflictInfo,
  type ConflictType,
  isDeletedState,
  isPatchState,
  type VersionedEntity,
  type VersionedState,
} from './types.js';

/**
 * Finds the entities edited both here and on the server since they last agreed.
 *
 * Two states of one entity conflict unless:
 * - both are deletes (they agree);
 * - both carry the same `hlc` (the same write seen twice, e.g. our own change echoed back);
 * - both carry version vectors and one has seen the other (`v1_newer`/`v2_newer`: a stale
 *   copy, the newer simply replaces it) or they are `equal`. Only `concurrent` vectors are
 *   a true conflict. Without vectors on both sides every overlapping edit is reported.
 *
 * @example
 * const conflicts = new ConflictDetector().detectConflicts(pendingChanges, pulledStates);
 */
export class ConflictDetector {
  /**
   * Matches local and server states by entity type and id and returns one conflict per
   * entity, in the order the local changes name them. Several states of one entity on a
   * side (oldest first) are folded into the state they add up to.
   */
  detectConflicts(localChanges: readonly VersionedEntity[], serverChanges: readonly VersionedEntity[]): ConflictInfo[] {
    const server = groupByEntity(serverChanges);
    const conflicts: ConflictInfo[] = [];
    for (const [key, locals] of groupByEntity(localChanges)) {
      const servers = server.get(key);
      if (!servers) continue;
      const conflict = this.detectConflict(foldChanges(locals), foldChanges(servers));
      if (conflict) conflicts.push(conflict);
    }
    return conflicts;
  }

  /** The conflict between one local and one server state of the same entity, or null. */
  detectConflict(
    local: VersionedEntity,
    server: VersionedState & Partial<Pick<VersionedEntity, 'entityType' | 'entityId'>>,
  ): ConflictInfo | null {
    if (
      (server.entityType !== undefined && server.entityType !== local.entityType) ||
      (server.entityId !== undefined && server.entityId !== local.entityId)
    ) {
      throw new SyncError(
        'VALIDATION_ERROR',
        `detectConflict compares two states of one entity, got ${local.entityType}/${local.entityId} and ${server.entityType}/${server.entityId}`,
      );
    }
    const localDeleted = isDeletedState(local);
    const serverDeleted = isDeletedState(server);
    if (localDeleted && serverDeleted) return null;
    if (local.hlc !== undefined && local.hlc === server.hlc) return null;
    if (local.vector && server.vector && compareVersions(local.vector, server.vector) !== 'concurrent') return null;

    const conflictType = conflictTypeOf(localDeleted, serverDeleted);
    return {
      entityType: local.entityType,
      entityId: local.entityId,
      localVersion: local,
      serverVersion: server,
      conflictType,
      conflictingFields: conflictType === 'update-update' ? findConflictingFields(local, server) : [],
    };
  }
}

/**
 * Fields both sides wrote with different values (compared by {@link jsonEqual}, so key order
 * inside nested objects does not matter). A whole record writes every field, absent ones
 * included; an UPDATE patch writes only the fields it carries.
 */
function findConflictingFields(local: VersionedState, server: VersionedState): string[] {
  const localData = local.data ?? {};
  const serverData = server.data ?? {};
  const localPatch = isPatchState(local);
  const serverPatch = isPatchState(server);
  const fields: string[] = [];
  for (const field of new Set([...Object.keys(localData), ...Object.keys(serverData)])) {
    const inLocal = Object.hasOwn(localData, field);
    const inServer = Object.hasOwn(serverData, field);
    if ((localPatch && !inLocal) || (serverPatch && !inServer)) continue;
    if (!jsonEqual(inLocal ? localData[field] : undefined, inServer ? serverData[field] : undefined))
      fields.push(field);
  }
  return fields;
}

function groupByEntity(states: readonly VersionedEntity[]): Map<string, VersionedEntity[]> {
  const groups = new Map<string, VersionedEntity[]>();
  for (const state of states) {
    // JSON keeps the pair unambiguous whatever characters an id holds.
    const key = JSON.stringify([state.entityType, state.entityId]);
    const group = groups.get(key);
    if (group) group.push(state);
    else groups.set(key, [state]);
  }
  return groups;
}

/**
 * The kind of a conflict between two concurrent states: who deleted. (Both deleting is no
 * conflict; callers rule it out first.)
 */
export function conflictTypeOf(localDeleted: boolean, serverDeleted: boolean): ConflictType {
  if (localDeleted) return 'delete-update';
  return serverDeleted ? 'update-delete' : 'update-update';
}
