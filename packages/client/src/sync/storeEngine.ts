import type { ConflictResolverLike } from '../conflicts/resolveConflicts.js';
import { SyncError, SyncErrorCode } from '../errors.js';
import { categorizeError } from '../retry/categorizeError.js';
import type { LocalStore } from '../store/LocalStore.js';
import type { ChangeTracker } from '../tracking/ChangeTracker.js';
import type { SyncTransport } from '../transport/RemoteAPI.js';
import { buildEngine, type Engine } from './buildEngine.js';
import { runPhase, runSyncCycle } from './runSyncCycle.js';
import { type CycleOutcome, SyncLoop, type SyncWork } from './SyncLoop.js';
import type { SyncResult } from './syncTypes.js';

/**
 * Runs a cycle of a store's one sync loop: a full sync, or one phase alone. Resolves with the
 * cycle's result; rejects with the categorised error when it fails.
 */
export interface StoreEngine {
  run(work: SyncWork): Promise<SyncResult>;
}

/** What an adapter knows, to build the store's engine when no {@link SyncManager} runs one. */
export interface EngineDefaults {
  remoteAPI: SyncTransport;
  changeTracker?: ChangeTracker | undefined;
  clientId?: string | undefined;
  conflictResolver?: ConflictResolverLike | undefined;
}

// One engine per store: the SyncManager's when one runs on it, else one built on first use.
const engines = new WeakMap<LocalStore, StoreEngine>();

/**
 * Makes `engine` the store's engine (a {@link SyncManager} calls it when it is made). The
 * sync classes built on a store (`VersionVectorSync`, `TimestampBasedSync`, `TwoWaySyncStrategy`) sync
 * through it from then on, so their cycles queue on the manager's loop like any other request.
 */
export function claimStoreEngine(store: LocalStore, engine: StoreEngine): void {
  engines.set(store, engine);
}

/** Gives the store back (a stopped SyncManager): the next adapter call builds a standalone engine. */
export function releaseStoreEngine(store: LocalStore, engine: StoreEngine): void {
  if (engines.get(store) === engine) engines.delete(store);
}

/**
 * The store's one engine. With a {@link SyncManager} on the store it is the manager's loop
 * (its transport, resolver and state); without one, a loop built here from `defaults` on the
 * store's one {@link ChangeTracker}, and kept for every later caller on the store.
 */
export function storeEngine(store: LocalStore, defaults: EngineDefaults): StoreEngine {
  let engine = engines.get(store);
  if (!engine) {
    engine = standaloneEngine(store, defaults);
    engines.set(store, engine);
  }
  return engine;
}

/** The same loop a SyncManager drives, without its triggers, timers and persisted state. */
function standaloneEngine(store: LocalStore, defaults: EngineDefaults): StoreEngine {
  let ready: Promise<Engine> | undefined;
  const loop = new SyncLoop<SyncResult>({
    canStart: () => true,
    runCycle: async (work, signal): Promise<CycleOutcome<SyncResult>> => {
      try {
        ready ??= buildEngine(
          {
            localStore: store,
            remoteAPI: defaults.remoteAPI,
            ...(defaults.changeTracker ? { changeTracker: defaults.changeTracker } : {}),
            ...(defaults.clientId ? { clientId: defaults.clientId } : {}),
            ...(defaults.conflictResolver ? { conflictResolver: defaults.conflictResolver } : {}),
          },
          Date.now,
        ).catch((error: unknown) => {
          // Not kept: the next cycle tries again (the store may have been busy, the id unset).
          ready = undefined;
          throw error;
        });
        const { push, pull } = await ready;
        if (work !== 'full')
          return { ok: true, value: await runPhase(push, pull, work, signal, await pull.getCursor()) };
        return {
          ok: true,
          value: await runSyncCycle(push, pull, { signal, onProgress: () => {}, afterPush: async () => {} }),
        };
      } catch (error) {
        return { ok: false, error };
      }
    },
  });
  return {
    async run(work) {
      const outcome = await loop.request(work, 'forced');
      if (!outcome) throw new SyncError(SyncErrorCode.UNKNOWN_ERROR, 'The sync loop is stopped', { retryable: false });
      if (!outcome.ok) throw categorizeError(outcome.error);
      return outcome.value;
    },
  };
}
