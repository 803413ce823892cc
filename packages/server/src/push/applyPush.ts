import type { PushResponse } from '@ferry/protocol';
import type { ServerStorage } from '../storage/ServerStorage.js';
import { type DecideContext, decideChange } from './decideChange.js';
import type { PushEntry } from './parsePushRequest.js';

/** What the apply path needs: the storage, the decision context and the server's clock. */
export interface ApplyDeps {
  storage: ServerStorage;
  decide: DecideContext;
  /** Wall clock in ms (`serverTime` in responses). */
  now: () => number;
}

/**
 * Applies the valid changes of a push in one storage transaction and answers one result per
 * pushed change, in order: the ones validation refused keep their `rejected` result and never
 * reach storage.
 */
export async function applyPush(deps: ApplyDeps, scope: string, entries: readonly PushEntry[]): Promise<PushResponse> {
  const changes = entries.flatMap((entry) => (entry.change ? [entry.change] : []));
  const outcome =
    changes.length > 0
      ? await deps.storage.applyChanges(scope, changes, (input) => decideChange(input, deps.decide))
      : { results: [], cursor: await deps.storage.currentSeq(scope) };
  let next = 0;
  const results = entries.map((entry) => {
    if (entry.rejected) return entry.rejected;
    const result = outcome.results[next++];
    if (result === undefined)
      throw new Error(`Storage answered ${outcome.results.length} of ${changes.length} changes`);
    return result;
  });
  return { results, cursor: outcome.cursor, serverTime: deps.now() };
}
