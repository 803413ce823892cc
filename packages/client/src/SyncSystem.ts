import type { EntityName, InferRecord, RecordData, Schema } from '@ferry/protocol';
import type { ConflictDecision, ConflictsView, StoredConflict } from './conflicts/ConflictInbox.js';
import type { ConflictResolver } from './conflicts/ConflictResolver.js';
import type { ResolutionStrategy } from './conflicts/types.js';
import type { Collection } from './data/Collection.js';
import type { Spaces } from './data/Spaces.js';
import type { WriteTransaction } from './data/WriteTransaction.js';
import type { SyncDiagnostics } from './diagnostics.js';
import type { SyncErrorHandler, SyncErrorHandlerOptions } from './retry/SyncErrorHandler.js';
import type { Signal, Timers } from './signals.js';
import type { LocalStore } from './store/LocalStore.js';
import type { SqlDriver } from './store/SqlDriver.js';
import type { DeadLetter } from './store/types.js';
import type { DeadLettersView } from './sync/DeadLetterQueue.js';
import type { SyncManager } from './sync/SyncManager.js';
import type { SyncStatusView } from './sync/SyncStatus.js';
import type { SyncResult } from './sync/syncTypes.js';
import type { ChangeTracker } from './tracking/ChangeTracker.js';
import type { TokenProvider } from './transport/HttpRemoteAPI.js';
import type { LiveConnection } from './transport/LiveConnection.js';
import type { RemoteAPI } from './transport/RemoteAPI.js';
import type { WebSocketFactory } from './transport/webSocket.js';

/** What background sync looks like to the core; `@ferry/react-native` provides the real one. */
export interface BackgroundSyncLike {
  enableBackgroundSync(): Promise<void>;
  disable?(): Promise<void> | void;
}

/** Configuration of {@link createSyncSystem}: the server, the policies, and where the data lives. */
export interface SyncSystemConfig {
  /** The sync server, e.g. `http://127.0.0.1:8787`. Or pass `remoteAPI`. */
  apiBaseUrl?: string;
  remoteAPI?: RemoteAPI;
  /** Gives the bearer token for each request. */
  getToken?: TokenProvider;
  /** Request timeout in ms. Default 15 000. */
  timeoutMs?: number;
  /** The app's version, reported to the server with sync requests (the operator's inspector shows it). */
  appVersion?: string;
  /** The device id; created and kept in the store when absent. */
  clientId?: string;
  /**
   * The signed-in user's id (the token's `sub`), which `spaces.create` and `spaces.leave` need.
   * Default: read from the `sub` of the JWT `getToken` gives.
   */
  userId?: string | (() => string | Promise<string>);
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

/**
 * Everything {@link createSyncSystem} wires together. The app needs
 * `collection(name)`, `write(fn)`, `sync()`, `status`, `conflicts`, `deadLetters` and `close()`;
 * the parts (`syncManager`, `changeTracker`, ...) stay reachable for code that drives them directly.
 */
export interface SyncSystem<S extends Schema = Schema> {
  syncManager: SyncManager;
  changeTracker: ChangeTracker;
  conflictResolver: ConflictResolver;
  errorHandler: SyncErrorHandler;
  backgroundSync: BackgroundSyncLike | null;
  localStore: LocalStore;
  remoteAPI: RemoteAPI;
  clientId: string;
  /** Records a change and asks for a sync (a convenience over `changeTracker.trackChange`). */
  trackAndSync(
    entityType: string,
    entityId: string,
    operation: 'CREATE' | 'UPDATE' | 'DELETE',
    data: RecordData | null,
  ): Promise<void>;
  /**
   * Several writes in ONE local transaction: the records and their outbox entries commit
   * together when `fn` resolves, or not at all when it throws.
   *
   * @example
   * await sync.write(async (tx) => {
   *   const list = await tx.collection('lists').insert({ title: 'Groceries' });
   *   await tx.collection('todos').insert({ title: 'Milk', listId: list.id });
   * });
   */
  write<R>(fn: (tx: WriteTransaction<S>) => Promise<R>): Promise<R>;
  /**
   * Syncs now: starts a cycle, or joins the one follow-up of the cycle running (so it covers
   * every write made before the call). Resolves with that cycle's result when it ends; rejects
   * with its `SyncError`. The same as `forceSync()`.
   */
  sync(): Promise<SyncResult>;
  /** The engine's state (pending count, errors, cursor, pause) and progress feed, observable. */
  status: SyncStatusView;
  /** Manual conflicts waiting for a decision: list, resolve, subscribe. */
  conflicts: ConflictsView;
  /** Changes the server refused for good: list, retry, discard, subscribe. */
  deadLetters: DeadLettersView;
  /** Shared spaces and their members (see {@link Spaces}); docs/sharing.md. */
  spaces: Spaces;
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
  /**
   * A redacted snapshot for a bug report: state, outbox counts by type, parked conflicts, dead
   * letters with their codes, cursors, recent errors, versions, driver, settings. Never record
   * contents or tokens.
   *
   * @example
   * Sentry.setContext('ferry', await sync.diagnostics());
   */
  diagnostics(): Promise<SyncDiagnostics>;
  /** Stops syncing and closes the store. */
  close(): Promise<void>;
  /** Manual conflicts waiting for a decision (see {@link SyncManager.listConflicts}). */
  listConflicts(): Promise<StoredConflict[]>;
  /** Decides a parked conflict (see {@link SyncManager.resolveConflict}). */
  resolveConflict(id: string, resolution: ConflictDecision): Promise<void>;
  /** Listens for changes of the conflict inbox; returns the unsubscribe function. */
  subscribeToConflicts(listener: () => void): () => void;
}
