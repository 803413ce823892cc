import { LIMITS } from '@ferry/protocol';
import type { ConflictResolver } from '../conflicts/ConflictResolver.js';
import { withServerConfig } from '../conflicts/serverStrategies.js';
import { ChangeTracker } from '../tracking/ChangeTracker.js';
import { getOrCreateClientId } from './clientId.js';
import { PullSyncStrategy } from './PullSyncStrategy.js';
import { PushSyncStrategy } from './PushSyncStrategy.js';
import type { SyncConfig } from './syncTypes.js';

/** The parts a sync cycle runs: the store's one tracker, and the push and pull phases. */
export interface Engine {
  tracker: ChangeTracker;
  push: PushSyncStrategy;
  pull: PullSyncStrategy;
}

/**
 * Builds the push and pull phases over the store's one {@link ChangeTracker}, with a transport
 * that learns the server's rules on connect: the entity types it declares, its limits and the
 * conflict strategies it arbitrates with. Writes are checked and pushes sized by them from
 * then on.
 */
export async function buildEngine(config: SyncConfig, now: () => number): Promise<Engine> {
  const store = config.localStore;
  const tracker =
    config.changeTracker ?? ChangeTracker.of(store, config.clientId ?? (await getOrCreateClientId(store)));
  const resolver = config.conflictResolver as Partial<ConflictResolver> | undefined;
  const api = withServerConfig(config.remoteAPI, async (serverConfig) => {
    resolver?.adoptServerStrategies?.(serverConfig.conflictStrategies);
    await tracker.rules.learn(serverConfig, store.closed ? undefined : store.kv);
  });
  const withResolver = config.conflictResolver ? { conflictResolver: config.conflictResolver } : {};
  const push = new PushSyncStrategy(api, tracker, {
    batchSize: config.batchSize ?? LIMITS.maxChangesPerPush,
    now,
    ...withResolver,
  });
  const pull = new PullSyncStrategy(api, tracker, {
    pageSize: config.pageSize ?? LIMITS.maxPullLimit,
    ...(config.pullTypes ? { types: config.pullTypes } : {}),
    ...withResolver,
  });
  return { tracker, push, pull };
}
