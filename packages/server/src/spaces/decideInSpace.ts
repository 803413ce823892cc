import {
  type Change,
  type ChangeResult,
  canWrite,
  ERROR_META,
  type ErrorCode,
  isRole,
  MAX_SPACE_NAME_LENGTH,
  MEMBER_TYPE,
  memberUser,
  mergeVersionVectors,
  type Role,
  SPACE_TYPE,
} from '@ferry/protocol';
import type { ChangeDecider, DecideInput, Decision } from '../storage/ServerStorage.js';

/** Who pushes into which space, and where their role comes from. */
export interface SpaceActor {
  /** The token's `sub`. */
  user: string;
  /** The shared space the changes write in. */
  space: string;
  /**
   * `storage`: the role is the storage's, read in the push transaction (`DecideInput.actorRole`);
   * membership changes are allowed. `token`: the role is the token's (fixed for the request),
   * and Ferry-managed membership changes are refused.
   */
  source: { kind: 'storage' } | { kind: 'token'; role: Role | null };
}

/** A per-change refusal: never logged, so the same change is judged afresh if pushed again. */
export function refuse(change: Change, code: ErrorCode, message: string): Decision {
  const result: ChangeResult = {
    changeId: change.id,
    status: 'rejected',
    error: { code, message, retryable: ERROR_META[code].retryable },
  };
  return { kind: 'skip', result };
}

/** The refusal for a user with no role in the space: the same words whether or not it exists. */
export function notAMember(change: Change, space: string): Decision {
  return refuse(change, 'FORBIDDEN', `Space ${space} does not exist or you are not a member of it`);
}

/**
 * Authorization and membership for one change in a shared space, in front of the ordinary
 * apply decision `decideRecord`:
 *
 *     $space CREATE of a new space ─▶ write, effect: space + creator as owner
 *     no role ───────────────────────▶ rejected FORBIDDEN (before the dedupe, so a replayed id reveals nothing)
 *     $space / $member ──────────────▶ owner checks (a member may delete their own $member: leave) ─▶ write + effect
 *     viewer ────────────────────────▶ rejected FORBIDDEN
 *     editor / owner ────────────────▶ decideRecord
 *
 * Membership changes always apply over the current state (their vector is merged with it):
 * two owners changing one member's role is settled by commit order, not reported as a conflict.
 */
export function decideInSpace(input: DecideInput, actor: SpaceActor, decideRecord: ChangeDecider): Decision {
  const { change, current } = input;
  const role = actor.source.kind === 'token' ? actor.source.role : (input.actorRole ?? null);
  const reserved = change.entityType === SPACE_TYPE || change.entityType === MEMBER_TYPE;
  if (reserved && actor.source.kind === 'token') {
    return refuse(
      change,
      'FORBIDDEN',
      'Membership on this server comes from the access token; change spaces and members where the tokens are issued',
    );
  }
  if (change.entityType === SPACE_TYPE && change.operation === 'CREATE' && role === null) {
    if (current !== null)
      return refuse(change, 'FORBIDDEN', `Space id ${actor.space} is taken; create the space with a new id`);
    return spaceWrite(input, actor, decideRecord, true);
  }
  if (role === null) return notAMember(change, actor.space);
  if (change.entityType === SPACE_TYPE) {
    if (change.operation === 'CREATE') {
      // A retried creation dedupes; a new one on an existing id must not rename the space.
      return input.alreadyApplied ? decideRecord(input) : taken(change, actor.space);
    }
    if (role !== 'owner') return refuse(change, 'FORBIDDEN', `Only an owner of space ${actor.space} may rename it`);
    return spaceWrite(input, actor, decideRecord, false);
  }
  if (change.entityType === MEMBER_TYPE) return memberWrite(input, actor, role, decideRecord);
  if (!canWrite(role)) {
    return refuse(
      change,
      'FORBIDDEN',
      `You are a viewer of space ${actor.space}: an owner must make you an editor to write`,
    );
  }
  return decideRecord(input);
}

function taken(change: Change, space: string): Decision {
  return refuse(change, 'FORBIDDEN', `Space id ${space} is taken; create the space with a new id`);
}

/** Applies a membership change over the current state: its vector dominates by construction. */
function overCurrent(input: DecideInput, decideRecord: ChangeDecider): Decision {
  if (input.alreadyApplied || input.current === null) return decideRecord(input);
  const change = { ...input.change, vector: mergeVersionVectors(input.current.vector, input.change.vector) };
  return decideRecord({ ...input, change });
}

function spaceWrite(input: DecideInput, actor: SpaceActor, decideRecord: ChangeDecider, create: boolean): Decision {
  const { change } = input;
  if (change.entityId !== actor.space) {
    return refuse(
      change,
      'VALIDATION_ERROR',
      `A ${SPACE_TYPE} change's entityId must be its space id (${actor.space})`,
    );
  }
  if (change.operation === 'DELETE') {
    return refuse(change, 'VALIDATION_ERROR', 'A space cannot be deleted; remove its members instead');
  }
  const name = change.data?.name;
  const keys = Object.keys(change.data ?? {});
  if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_SPACE_NAME_LENGTH || keys.length !== 1) {
    return refuse(
      change,
      'VALIDATION_ERROR',
      `A ${SPACE_TYPE} change's data must be { name } with a name of 1-${MAX_SPACE_NAME_LENGTH} characters`,
    );
  }
  const decision = overCurrent(input, decideRecord);
  if (decision.kind !== 'write') return decision;
  return {
    ...decision,
    effect: { kind: 'space', space: actor.space, name, ...(create ? { createdBy: actor.user } : {}) },
  };
}

/**
 * Why `input` would leave a space that still has members without an owner (the member is its
 * last owner and would be removed, leave or step down), or null when it would not. A space
 * whose last member leaves may end empty: nobody is locked out of anything.
 */
function leavesNoOwner(input: DecideInput, granted: Role | null): string | null {
  const { roster, alreadyApplied } = input;
  if (roster === undefined || alreadyApplied) return null;
  if (roster.subjectRole !== 'owner' || granted === 'owner' || roster.owners > 1) return null;
  if (granted !== null) return 'cannot step down while the space has members';
  return roster.members > 1 ? 'cannot leave or be removed while other members remain' : null;
}

function memberWrite(input: DecideInput, actor: SpaceActor, role: Role, decideRecord: ChangeDecider): Decision {
  const { change } = input;
  const user = memberUser(actor.space, change.entityId);
  if (user === null) {
    return refuse(change, 'VALIDATION_ERROR', `A ${MEMBER_TYPE} change's entityId must be "${actor.space}:<user id>"`);
  }
  const leaving = change.operation === 'DELETE' && user === actor.user;
  if (role !== 'owner' && !leaving) {
    return refuse(change, 'FORBIDDEN', `Only an owner of space ${actor.space} may add, change or remove members`);
  }
  let granted: Role | null = null;
  if (change.operation !== 'DELETE') {
    const keys = Object.keys(change.data ?? {});
    const asked = change.data?.role;
    if (!isRole(asked) || keys.length !== 1) {
      return refuse(
        change,
        'VALIDATION_ERROR',
        `A ${MEMBER_TYPE} change's data must be { role } with role owner, editor or viewer`,
      );
    }
    granted = asked;
  }
  const orphaning = leavesNoOwner(input, granted);
  if (orphaning !== null) {
    return refuse(
      change,
      'FORBIDDEN',
      `${user} is the last owner of space ${actor.space} and ${orphaning}: make another member an owner first ` +
        '(addMember(space, user, "owner")), or remove the other members',
    );
  }
  const decision = overCurrent(input, decideRecord);
  if (decision.kind !== 'write') return decision;
  return { ...decision, effect: { kind: 'member', space: actor.space, user, role: granted } };
}
