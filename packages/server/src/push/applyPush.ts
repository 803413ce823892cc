import {
  type Change,
  type ChangeResult,
  isReservedType,
  MEMBER_TYPE,
  memberEntityId,
  type PushResponse,
  SPACE_TYPE,
} from '@ferry/protocol';
import { decideInSpace, refuse, type SpaceActor } from '../spaces/decideInSpace.js';
import type { SpaceAccess } from '../spaces/SpaceAccess.js';
import type { ApplyOutcome, ChangeDecider, ServerStorage } from '../storage/ServerStorage.js';
import { type DecideContext, decideChange } from './decideChange.js';
import type { PushEntry } from './parsePushRequest.js';

/** What the apply path needs: the storage, the decision context and the server's clock. */
export interface ApplyDeps {
  storage: ServerStorage;
  decide: DecideContext;
  /** Wall clock in ms (`serverTime` in responses). */
  now: () => number;
}

/** The pushing user, when the push concerns only their private space (the REST routes, old callers). */
type Pusher = SpaceAccess | string;

/**
 * Applies the valid changes of a push and answers one result per pushed change, in order: the
 * ones validation refused keep their `rejected` result and never reach storage.
 *
 * Changes are grouped by space (first appearance order, push order inside a group) and each
 * group runs as ONE storage transaction in its space's scope: a push is atomic per space, and
 * one space's refusal never holds back another's writes. A change in a space the user may not
 * write is `rejected` with `FORBIDDEN` (not retryable); the rest of the push applies.
 */
export async function applyPush(deps: ApplyDeps, pusher: Pusher, entries: readonly PushEntry[]): Promise<PushResponse> {
  const user = typeof pusher === 'string' ? pusher : pusher.user;
  const results: ChangeResult[] = new Array(entries.length);
  const groups = new Map<string | undefined, Array<{ index: number; change: Change }>>();
  entries.forEach((entry, index) => {
    if (entry.rejected) {
      results[index] = entry.rejected;
      return;
    }
    const space = entry.change.space;
    const group = groups.get(space) ?? [];
    if (group.length === 0) groups.set(space, group);
    group.push({ index, change: entry.change });
  });
  const decideRecord: ChangeDecider = (input) => decideChange(input, deps.decide);
  let cursor: number | undefined;
  for (const [space, group] of groups) {
    const changes = group.map((item) => item.change);
    let outcome: ApplyOutcome;
    if (space === undefined) {
      outcome = await deps.storage.applyChanges(user, changes, (input) =>
        isReservedType(input.change.entityType)
          ? refuse(
              input.change,
              'VALIDATION_ERROR',
              `A ${input.change.entityType} change needs a shared space ("space")`,
            )
          : decideRecord(input),
      );
      cursor = outcome.cursor;
    } else if (typeof pusher === 'string') {
      throw new Error('applyPush: a change in a shared space needs the pusher’s SpaceAccess');
    } else {
      outcome = { results: await applyInSpace(deps.storage, pusher, space, changes, decideRecord), cursor: 0 };
    }
    group.forEach((item, at) => {
      const result = outcome.results[at];
      if (result === undefined)
        throw new Error(`Storage answered ${outcome.results.length} of ${changes.length} changes`);
      results[item.index] = result;
    });
  }
  // The private space's sequence, as protocol v1 has always answered.
  cursor ??= await deps.storage.currentSeq(user);
  return { results, cursor, serverTime: deps.now() };
}

/** One space's group: refused up front when no change of it can pass, else decided inside the transaction. */
async function applyInSpace(
  storage: ServerStorage,
  access: SpaceAccess,
  space: string,
  changes: readonly Change[],
  decideRecord: ChangeDecider,
): Promise<ChangeResult[]> {
  const role = await access.roleOf(space);
  const source: SpaceActor['source'] = access.source === 'token' ? { kind: 'token', role } : { kind: 'storage' };
  const actor: SpaceActor = { user: access.user, space, source };
  // Only a new space's creation or a viewer leaving can pass without a writing role. Anything
  // else is refused here, before a transaction: a refused push leaves the database as it was.
  const mayPass =
    role === 'owner' ||
    role === 'editor' ||
    (access.source === 'ferry' &&
      changes.some(
        (change) =>
          (change.entityType === SPACE_TYPE && change.operation === 'CREATE') ||
          (change.entityType === MEMBER_TYPE &&
            change.operation === 'DELETE' &&
            change.entityId === memberEntityId(space, access.user)),
      ));
  if (!mayPass) {
    return changes.map((change) => {
      const decision = decideInSpace(
        { change, current: null, alreadyApplied: false, actorRole: role },
        actor,
        decideRecord,
      );
      if (decision.kind !== 'skip') throw new Error(`Change ${change.id} would pass without a writing role`);
      return decision.result;
    });
  }
  // The role is read again inside the transaction (after its lock): that one decides.
  const outcome = await storage.applyChanges(
    space,
    changes,
    (input) => decideInSpace(input, actor, decideRecord),
    access.source === 'ferry' ? { actor: access.user } : {},
  );
  return outcome.results;
}
