/**
 * Conflict resolution: what each strategy makes of each kind of conflict. The automatic
 * strategies are `resolveStates` from `@ferry/protocol`, which the server arbitrates with too.
 *
 * "Later"/"earlier" compare HLC strings (a total order, node id breaks ties). A side without
 * an HLC is placed by `(timestamp, clientId)`. On an exact tie (only possible without HLCs,
 * or for the same write seen twice) the live side beats the tombstone, then the larger
 * canonical JSON of `data` wins, so both replicas of a conflict pick alike. When the winning
 * side is an `UPDATE` patch (only the fields it wrote) and the loser is live, the patch is
 * applied over the loser's data; a winning patch over a tombstone comes back as the patch.
 *
 * | strategy         | update-update                       | update-delete (local upd., server del.) | delete-update (local del., server upd.) |
 * | ---------------- | ----------------------------------- | --------------------------------------- | --------------------------------------- |
 * | last-write-wins  | later write wins whole              | later of update and delete wins         | later of delete and update wins         |
 * | first-write-wins | earlier write wins whole            | earlier of update and delete wins       | earlier of delete and update wins       |
 * | server-wins      | server's data                       | deleted                                 | server's data (local delete undone)     |
 * | client-wins      | local data                          | local data (record comes back)          | deleted                                 |
 * | merge            | per field, later field stamp wins;  | delete wins if later than the update's  | same as update-delete, sides swapped    |
 * |                  | fields of either side kept ('merged')| latest field stamp; tie: update wins    |                                         |
 * | manual           | the callback's decision; no callback or `undefined` → `deferred` (local state kept, conflict parked) | same | same |
 *
 * `last-write-wins`, `first-write-wins` and `merge` are symmetric: resolving (local X,
 * server Y) on one device and (local Y, server X) on another gives the same data and
 * deletion, only the `winner` label flips. That is what makes replicas converge.
 * `server-wins` converges because the server's copy is the reference; `client-wins` lets
 * the last client to push win at the server.
 */
import { resolveStates } from '@ferry/protocol';
import { SyncError } from '../errors.js';
import {
  type ConflictInfo,
  isDeletedState,
  isResolutionStrategy,
  type ManualResolutionCallback,
  RESOLUTION_STRATEGIES,
  type Resolution,
  type ResolutionStrategy,
  type VersionedState,
} from './types.js';

const WINNERS: ReadonlySet<string> = new Set(['local', 'server', 'merged', 'deferred']);

function checkStrategy(strategy: unknown): ResolutionStrategy {
  if (isResolutionStrategy(strategy)) return strategy;
  throw new SyncError(
    'VALIDATION_ERROR',
    `Unknown conflict resolution strategy ${JSON.stringify(strategy)}: use one of ${RESOLUTION_STRATEGIES.map((s) => `'${s}'`).join(', ')}`,
  );
}

/**
 * Settles conflicts by a default strategy, overridable per entity type.
 *
 * @example
 * const resolver = new ConflictResolver('last-write-wins');
 * resolver.setStrategyForEntity('notes', 'merge');
 * resolver.setStrategyForEntity('invoices', 'manual');
 * resolver.setManualResolutionCallback(async (conflict) => askTheUser(conflict));
 * const resolution = await resolver.resolve(conflict);
 */
export class ConflictResolver {
  #defaultStrategy: ResolutionStrategy;
  #overrides = new Map<string, ResolutionStrategy>();
  /** Learned from the server's `GET /v1/config`; an app's own `setStrategyForEntity` beats them. */
  #serverStrategies = new Map<string, ResolutionStrategy>();
  #manualCallback: ManualResolutionCallback | undefined;

  constructor(defaultStrategy: ResolutionStrategy = 'last-write-wins') {
    this.#defaultStrategy = checkStrategy(defaultStrategy);
  }

  /** Uses `strategy` for every conflict on `entityType`. */
  setStrategyForEntity(entityType: string, strategy: ResolutionStrategy): void {
    this.#overrides.set(entityType, checkStrategy(strategy));
  }

  /** The strategy that applies to `entityType`: the app's, else the server's, else the default. */
  getStrategy(entityType: string): ResolutionStrategy {
    return this.#overrides.get(entityType) ?? this.#serverStrategies.get(entityType) ?? this.#defaultStrategy;
  }

  /**
   * Adopts the strategies the server arbitrates with (`ServerConfig.conflictStrategies`), so
   * that conflicts this device settles itself end as the server's would. They replace what
   * was adopted before; types the app set with `setStrategyForEntity` keep the app's choice.
   * Names this build does not know are skipped (a newer server), never thrown on.
   */
  adoptServerStrategies(strategies: Readonly<Record<string, string>>): void {
    this.#serverStrategies.clear();
    for (const [type, strategy] of Object.entries(strategies)) {
      if (isResolutionStrategy(strategy)) this.#serverStrategies.set(type, strategy);
    }
  }

  /** Decides `manual` conflicts; without one (or when it returns `undefined`) they are `deferred`. */
  setManualResolutionCallback(callback: ManualResolutionCallback | undefined): void {
    this.#manualCallback = callback;
  }

  /** Settles one conflict with the strategy of its entity type. */
  async resolve(conflict: ConflictInfo): Promise<Resolution> {
    const strategy = this.getStrategy(conflict.entityType);
    const local = conflict.localVersion;
    const server = conflict.serverVersion;
    if (strategy === 'manual') {
      const decided = this.#manualCallback ? await this.#manualCallback(conflict) : undefined;
      return decided === undefined ? deferred(local) : checkManual(decided);
    }
    // The same pure function the server arbitrates with: both sides settle a conflict alike.
    return { ...resolveStates(strategy, local, server), strategy };
  }
}

/** A manual conflict nobody has decided: the device keeps its own state meanwhile. */
function deferred(local: VersionedState): Resolution {
  const deleted = isDeletedState(local);
  const resolution: Resolution = {
    winner: 'deferred',
    resolvedData: deleted ? null : { ...local.data },
    deleted,
    strategy: 'manual',
  };
  if (local.fieldHlcs) resolution.fieldHlcs = { ...local.fieldHlcs };
  if (local.hlc !== undefined) resolution.hlc = local.hlc;
  return resolution;
}

function checkManual(decided: Resolution): Resolution {
  if (typeof decided !== 'object' || decided === null || !WINNERS.has(decided.winner)) {
    throw new SyncError(
      'VALIDATION_ERROR',
      'The manual resolution callback must resolve to undefined (decide later) or to ' +
        "{ winner: 'local' | 'server' | 'merged' | 'deferred', resolvedData, deleted }",
    );
  }
  const deleted = decided.deleted ?? decided.resolvedData === null;
  if (!deleted && (typeof decided.resolvedData !== 'object' || decided.resolvedData === null)) {
    throw new SyncError(
      'VALIDATION_ERROR',
      'The manual resolution callback returned no resolvedData for a record it keeps: set deleted: true',
    );
  }
  return { ...decided, resolvedData: deleted ? null : decided.resolvedData, deleted, strategy: 'manual' };
}
