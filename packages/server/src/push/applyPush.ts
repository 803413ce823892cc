import type { Change, PushResponse } from '@ferry/protocol';
import type { ServerStorage } from '../storage/ServerStorage.js';
import { type DecideContext, decideChange } from './decideChange.js';

/** What the apply path needs: the storage, the decision context and the server's clock. */
export interface ApplyDeps {
  storage: ServerStorage;
  decide: DecideContext;
  /** Wall clock in ms (`serverTime` in responses). */
  now: () => number;
}

/** Applies already-validated changes in one storage transaction; one result per change. */
export async function applyPush(deps: ApplyDeps, scope: string, changes: readonly Change[]): Promise<PushResponse> {
  const outcome = await deps.storage.applyChanges(scope, changes, (input) => decideChange(input, deps.decide));
  return { results: outcome.results, cursor: outcome.cursor, serverTime: deps.now() };
}
