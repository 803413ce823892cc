import type { DeviceReport, Schema } from '@ferry/protocol';
import { ConflictResolver } from './conflicts/ConflictResolver.js';
import { Collection } from './data/Collection.js';
import { Spaces, subjectOfToken } from './data/Spaces.js';
import { WriteTransaction } from './data/WriteTransaction.js';
import { collectDiagnostics } from './diagnostics.js';
import { SyncError } from './errors.js';
import { SyncErrorHandler } from './retry/SyncErrorHandler.js';
import type { SyncSystem, SyncSystemConfig } from './SyncSystem.js';
import { LocalStore } from './store/LocalStore.js';
import { getOrCreateClientId } from './sync/clientId.js';
import { SyncManager } from './sync/SyncManager.js';
import { ChangeTracker } from './tracking/ChangeTracker.js';
import { HttpRemoteAPI } from './transport/HttpRemoteAPI.js';
import { LiveConnection } from './transport/LiveConnection.js';
import type { RemoteAPI } from './transport/RemoteAPI.js';
import { liveUrlFrom } from './transport/webSocket.js';
import { SDK_VERSION } from './version.js';

export type { BackgroundSyncLike, SyncSystem, SyncSystemConfig } from './SyncSystem.js';

/**
 * Wires store, API client, tracker, resolver, error handler, manager and background sync.
 * Async because opening the database is.
 *
 * @example
 * const sync = await createSyncSystem({
 *   apiBaseUrl: 'http://127.0.0.1:8787',
 *   getToken: () => auth.token,
 *   driver: createBetterSqliteDriver('./app.db'),
 *   conflictStrategy: 'last-write-wins',
 * });
 * await sync.collection('todos').insert({ title: 'Milk' });
 */
export async function createSyncSystem<S extends Schema = Schema>(
  config: SyncSystemConfig & { schema?: S },
): Promise<SyncSystem<S>> {
  const localStore =
    config.localStore ??
    (config.driver ? await LocalStore.open(config.driver, config.schema ? { schema: config.schema } : {}) : undefined);
  if (!localStore) {
    throw new SyncError('VALIDATION_ERROR', 'createSyncSystem needs a `localStore` or a `driver` to open one on', {
      retryable: false,
    });
  }
  // Bound once the manager exists: the transport asks for the report at each sync request.
  let deviceReport: () => DeviceReport | null = () => null;
  const remoteAPI = config.remoteAPI ?? makeHttpApi(config, () => deviceReport());
  const clientId = config.clientId ?? (await getOrCreateClientId(localStore));
  const changeTracker = ChangeTracker.of(localStore, clientId);
  const conflictResolver = new ConflictResolver(config.conflictStrategy ?? 'last-write-wins');
  for (const [type, strategy] of Object.entries(config.entityStrategies ?? {})) {
    conflictResolver.setStrategyForEntity(type, strategy);
  }
  const errorHandler = new SyncErrorHandler(config.retry);
  const liveConnection = makeLive(config);
  const syncManager = new SyncManager({
    ...(liveConnection ? { live: liveConnection } : {}),
    localStore,
    remoteAPI,
    conflictResolver,
    changeTracker,
    errorHandler,
    ...pick(config, [
      'syncInterval',
      'batchSize',
      'pageSize',
      'pullTypes',
      'online',
      'appActive',
      'writeDebounceMs',
      'timers',
      'now',
      'autoStart',
    ]),
  });
  let deadLetterCount = 0;
  syncManager.subscribeToDeadLetters((deadLetters) => {
    deadLetterCount = deadLetters.length;
  });
  deviceReport = () => {
    const state = syncManager.getState();
    return {
      id: clientId,
      outbox: state.pendingChanges,
      dead: deadLetterCount,
      ...(state.syncErrors.at(-1) ? { err: state.syncErrors.at(-1)?.errorCode } : {}),
      ...(config.appVersion ? { app: config.appVersion } : {}),
      sdk: SDK_VERSION,
    };
  };
  const backgroundSync = config.backgroundSync ? config.backgroundSync(syncManager) : null;
  if (backgroundSync) await backgroundSync.enableBackgroundSync();
  const collections = new Map<string, Collection>();
  const spaces = new Spaces(changeTracker, () => userIdOf(config));
  return {
    spaces,
    syncManager,
    changeTracker,
    conflictResolver,
    errorHandler,
    backgroundSync,
    localStore,
    remoteAPI,
    clientId,
    liveConnection,
    listDeadLetters: () => syncManager.listDeadLetters(),
    retryDeadLetter: (changeId) => syncManager.retryDeadLetter(changeId),
    discardDeadLetter: (changeId) => syncManager.discardDeadLetter(changeId),
    subscribeToDeadLetters: (listener) => syncManager.subscribeToDeadLetters(listener),
    async trackAndSync(entityType, entityId, operation, data) {
      await changeTracker.trackChange(entityType, entityId, operation, data);
      await syncManager.triggerSync();
    },
    forceSync: () => syncManager.performFullSync(),
    sync: () => syncManager.performFullSync(),
    write: (fn) => localStore.write((tx) => fn(new WriteTransaction(tx, changeTracker))),
    status: syncManager.status,
    conflicts: syncManager.conflicts,
    deadLetters: syncManager.deadLetters,
    listConflicts: () => syncManager.listConflicts(),
    resolveConflict: (id, resolution) => syncManager.resolveConflict(id, resolution),
    subscribeToConflicts: (listener) => syncManager.subscribeToConflicts(listener),
    collection(name: string) {
      let collection = collections.get(name);
      if (!collection) {
        collection = new Collection(name, changeTracker);
        collections.set(name, collection);
      }
      return collection as never;
    },
    diagnostics: () =>
      collectDiagnostics({
        clientId,
        config,
        localStore,
        state: syncManager.getState(),
        pending: () => changeTracker.getPendingChanges(),
        conflicts: () => syncManager.listConflicts(),
        deadLetters: () => syncManager.listDeadLetters(),
        now: config.now ?? Date.now,
      }),
    async close() {
      await syncManager.stop();
      await backgroundSync?.disable?.();
      await localStore.close();
    },
  };
}

function makeHttpApi(config: SyncSystemConfig, deviceReport: () => DeviceReport | null): RemoteAPI {
  if (!config.apiBaseUrl) {
    throw new SyncError('VALIDATION_ERROR', 'createSyncSystem needs `apiBaseUrl` (or a `remoteAPI`)', {
      retryable: false,
    });
  }
  return new HttpRemoteAPI({
    baseUrl: config.apiBaseUrl,
    ...(config.getToken ? { getToken: config.getToken } : {}),
    ...(config.timeoutMs !== undefined ? { timeoutMs: config.timeoutMs } : {}),
    deviceReport,
  });
}

function makeLive(config: SyncSystemConfig): LiveConnection | null {
  if (!config.live) return null;
  const options = config.live === true ? {} : config.live;
  const url = options.url ?? (config.apiBaseUrl ? liveUrlFrom(config.apiBaseUrl) : undefined);
  if (!url) {
    throw new SyncError(
      'VALIDATION_ERROR',
      'createSyncSystem: `live` needs `live.url` or `apiBaseUrl` to find /v1/live',
      {
        retryable: false,
      },
    );
  }
  return new LiveConnection({
    url,
    ...(config.getToken ? { getToken: config.getToken } : {}),
    ...(options.webSocket ? { webSocket: options.webSocket } : {}),
    ...(config.timers ? { timers: config.timers } : {}),
  });
}

function pick<T extends object, K extends keyof T>(source: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}

/** The user id `sync.spaces` needs: configured, or the `sub` of the current token. */
async function userIdOf(config: SyncSystemConfig): Promise<string> {
  if (typeof config.userId === 'string') return config.userId;
  if (typeof config.userId === 'function') return config.userId();
  const token = config.getToken ? await config.getToken({ forceRefresh: false }) : null;
  if (!token) throw new SyncError('AUTH_ERROR', 'No token to read the user id from: pass userId to createSyncSystem');
  return subjectOfToken(token);
}
