import type { EntityName, InferRecord, RecordData, Schema } from '@ferry/protocol';
import { ConflictResolver } from './conflicts/ConflictResolver.js';
import type { ResolutionStrategy } from './conflicts/types.js';
import { Collection } from './data/Collection.js';
import { SyncErrorHandler, type SyncErrorHandlerOptions } from './retry/SyncErrorHandler.js';
import type { Signal, Timers } from './signals.js';
import { LocalStore } from './store/LocalStore.js';
import type { SqlDriver } from './store/SqlDriver.js';
import type { DeadLetter } from './store/types.js';
import type { ConflictDecision, StoredConflict } from './sync/ConflictInbox.js';
import { getOrCreateClientId } from './sync/clientId.js';
import { SyncManager, type SyncResult } from './sync/SyncManager.js';
import { ChangeTracker } from './tracking/ChangeTracker.js';
import { HttpRemoteAPI, type TokenProvider } from './transport/HttpRemoteAPI.js';
import { LiveConnection } from './transport/LiveConnection.js';
import type { RemoteAPI } from './transport/RemoteAPI.js';
import { liveUrlFrom, type WebSocketFactory } from './transport/webSocket.js';

/** What background sync looks like to the core; `@ferry/react-native` provides the real one. */
export interface BackgroundSyncLike {
  enableBackgroundSync(): Promise<void>;
  disable?(): Promise<void> | void;
}

/** Configuration of {@link createSyncSystem} (the seed's, plus where the data lives). */
export interface SyncSystemConfig {
  /** The sync server, e.g. `http://127.0.0.1:8787`. Or pass `remoteAPI`. */
  apiBaseUrl?: string;
  remoteAPI?: RemoteAPI;
  /** Gives the bearer token for each request. */
  getToken?: TokenProvider;
  /** Request timeout in ms. Default 15 000. */
  timeoutMs?: number;
  /** The device id; created and kept in the store when absent. */
  clientId?: string;
  /** Default conflict strategy. Default `last-write-wins`. */
  conflictStrategy?: ResolutionStrategy;
  /** Per-entity-type strategies. */
  entityStrategies?: Record<string, ResolutionStrategy>;
  /** An open store, or a driver to open one on. */
  localStore?: LocalStore;
  driver?: SqlDriver;
  /**
   * The declared entity types (`defineSchema(...)`, the same definition the server loads):
   * the store indexes and validates with it, and `collection(name)` is typed from it.
   * Ignored when `localStore` is passed (open that store with the schema).
   */
  schema?: Schema;
  syncInterval?: number;
  batchSize?: number;
  pageSize?: number;
  pullTypes?: readonly string[];
  retry?: SyncErrorHandlerOptions;
  online?: Signal<boolean>;
  appActive?: Signal<boolean>;
  writeDebounceMs?: number;
  timers?: Timers;
  now?: () => number;
  autoStart?: boolean;
  /**
   * Live pokes over `GET /v1/live` (off by default): `true` derives the URL from `apiBaseUrl` and uses the
   * platform's global WebSocket; Node passes `webSocket: (url) => new WebSocket(url)` from 'ws'.
   */
  live?: boolean | { url?: string; webSocket?: WebSocketFactory };
  /** Builds background sync around the manager (the React Native package passes one). */
  backgroundSync?: (syncManager: SyncManager) => BackgroundSyncLike;
}

/** Everything {@link createSyncSystem} wires together (the seed's `SyncSystem`). */
export interface SyncSystem<S extends Schema = Schema> {
  syncManager: SyncManager;
  changeTracker: ChangeTracker;
  conflictResolver: ConflictResolver;
  errorHandler: SyncErrorHandler;
  backgroundSync: BackgroundSyncLike | null;
  localStore: LocalStore;
  remoteAPI: RemoteAPI;
  clientId: string;
  /** Records a change and syncs (the seed's convenience call). */
  trackAndSync(
    entityType: string,
    entityId: string,
    operation: 'CREATE' | 'UPDATE' | 'DELETE',
    data: RecordData | null,
  ): Promise<void>;
  /** The live channel, when `live` is on. */
  liveConnection: LiveConnection | null;
  /** Changes the server rejected for good (see {@link SyncManager.listDeadLetters}). */
  listDeadLetters(): Promise<DeadLetter[]>;
  /** Sends a dead change again; false when there is no such dead letter. */
  retryDeadLetter(changeId: string): Promise<boolean>;
  /** Forgets a dead change; false when there is no such dead letter. */
  discardDeadLetter(changeId: string): Promise<boolean>;
  /** Hears the dead-letter list now and on every change; returns unsubscribe. */
  subscribeToDeadLetters(listener: (deadLetters: DeadLetter[]) => void): () => void;
  /** A full push-then-pull sync now; rejects with the categorised error. */
  forceSync(): Promise<SyncResult>;
  /** The app-facing data API for one entity type, typed from the schema when it is a `defineSchema` one. */
  collection<K extends EntityName<S>>(name: K): Collection<InferRecord<S, K>>;
  collection<T extends RecordData = RecordData>(name: string): Collection<T>;
  /** Stops syncing and closes the store. */
  close(): Promise<void>;
  /** Manual conflicts waiting for a decision (see {@link SyncManager.listConflicts}). */
  listConflicts(): Promise<StoredConflict[]>;
  /** Decides a parked conflict (see {@link SyncManager.resolveConflict}). */
  resolveConflict(id: string, resolution: ConflictDecision): Promise<void>;
  /** Listens for changes of the conflict inbox; returns the unsubscribe function. */
  subscribeToConflicts(listener: () => void): () => void;
}

/**
 * Wires store, API client, tracker, resolver, error handler, manager and background sync.
 * Async, unlike the seed's sketch, because opening the database is.
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
  if (!localStore) throw new Error('createSyncSystem needs a `localStore` or a `driver` to open one on');
  const remoteAPI = config.remoteAPI ?? makeHttpApi(config);
  const clientId = config.clientId ?? (await getOrCreateClientId(localStore));
  const changeTracker = new ChangeTracker(localStore, clientId);
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
  const backgroundSync = config.backgroundSync ? config.backgroundSync(syncManager) : null;
  if (backgroundSync) await backgroundSync.enableBackgroundSync();
  const collections = new Map<string, Collection>();
  return {
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
    async close() {
      await syncManager.stop();
      await backgroundSync?.disable?.();
      await localStore.close();
    },
  };
}

function makeHttpApi(config: SyncSystemConfig): RemoteAPI {
  if (!config.apiBaseUrl) throw new Error('createSyncSystem needs `apiBaseUrl` (or a `remoteAPI`)');
  return new HttpRemoteAPI({
    baseUrl: config.apiBaseUrl,
    ...(config.getToken ? { getToken: config.getToken } : {}),
    ...(config.timeoutMs !== undefined ? { timeoutMs: config.timeoutMs } : {}),
  });
}

function makeLive(config: SyncSystemConfig): LiveConnection | null {
  if (!config.live) return null;
  const options = config.live === true ? {} : config.live;
  const url = options.url ?? (config.apiBaseUrl ? liveUrlFrom(config.apiBaseUrl) : undefined);
  if (!url) throw new Error('createSyncSystem: `live` needs `live.url` or `apiBaseUrl` to find /v1/live');
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
