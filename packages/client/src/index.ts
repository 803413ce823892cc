/**
 * @ferry/client: the platform-agnostic sync engine. Platform facts (network, foreground,
 * which SQLite) are plugged in; nothing here imports React Native or Node-only modules.
 */
export * from '@ferry/protocol';
export { ConflictDetector } from './conflicts/ConflictDetector.js';
export { ConflictResolver } from './conflicts/ConflictResolver.js';
export { withServerConfig } from './conflicts/serverStrategies.js';
export { stateFromRecord } from './conflicts/stateFromRecord.js';
export {
  type ConflictInfo,
  type ConflictType,
  type ManualResolutionCallback,
  RESOLUTION_STRATEGIES,
  type Resolution,
  type ResolutionStrategy,
  type ResolutionWinner,
  type VersionedEntity,
  type VersionedState,
} from './conflicts/types.js';
export {
  type BackgroundSyncLike,
  createSyncSystem,
  type SyncSystem,
  type SyncSystemConfig,
} from './createSyncSystem.js';
export { Collection, type Doc } from './data/Collection.js';
export {
  codeForStatus,
  HttpError,
  NetworkError,
  SyncError,
  SyncErrorCode,
  type SyncErrorOptions,
  TimeoutError,
  toError,
} from './errors.js';
export { categorizeError } from './retry/categorizeError.js';
export { fromWireError, type WireError } from './retry/fromWireError.js';
export { parseRetryAfter } from './retry/parseRetryAfter.js';
export {
  DEFAULT_RETRY_CONFIG,
  type ExecuteWithRetryOptions,
  type FailedOperation,
  type RetryConfig,
  SyncErrorHandler,
  type SyncErrorHandlerOptions,
} from './retry/SyncErrorHandler.js';
export { defaultSleep, type Sleep } from './retry/sleep.js';
export { defaultTimers, Signal, type Timers } from './signals.js';
export { type ChangeSource, LiveQuery, type ReadSet } from './store/LiveQuery.js';
export { LocalStore, type LocalStoreOptions } from './store/LocalStore.js';
export type { SqlDriver, SqlExecutor, SqlResult, SqlRow, SqlValue } from './store/SqlDriver.js';
export { StoreTx } from './store/StoreTx.js';
export type {
  DeadLetter,
  FieldCondition,
  FindOptions,
  KeyValueStore,
  LocalEntity,
  OutboxEntry,
  QueryValue,
  SortKey,
  StoreChangeEvent,
  Where,
} from './store/types.js';
export {
  type BatchProgress,
  type BatchResult,
  BatchSync,
  type BatchSyncConfig,
  type BatchSyncOptions,
  type BatchSyncResult,
  DEFAULT_BATCH_SYNC_OPTIONS,
  type FailedChange,
} from './sync/BatchSync.js';
export {
  type ConflictDecision,
  ConflictInbox,
  notifyConflictsChanged,
  type StoredConflict,
  watchConflicts,
} from './sync/ConflictInbox.js';
export { getOrCreateClientId } from './sync/clientId.js';
export { DeadLetterQueue } from './sync/DeadLetterQueue.js';
export {
  type PullCallOptions,
  type PullResult,
  type PullSyncOptions,
  PullSyncStrategy,
} from './sync/PullSyncStrategy.js';
export {
  type PushCallOptions,
  type PushChangeResult,
  type PushResult,
  type PushSyncOptions,
  PushSyncStrategy,
} from './sync/PushSyncStrategy.js';
export type { ConflictResolverLike } from './sync/resolveConflicts.js';
export {
  type LiveChannel,
  type SyncConfig,
  type SyncErrorRecord,
  SyncManager,
  type SyncPause,
  type SyncPhase,
  type SyncProgressState,
  type SyncResult,
  type SyncState,
} from './sync/SyncManager.js';
export {
  type CategorizedChanges,
  type ConflictPair,
  TimestampBasedSync,
  type TimestampedEntity,
  type TimestampSyncResult,
  timestampedFromRecord,
} from './sync/TimestampBasedSync.js';
export { type TwoWaySyncResult, TwoWaySyncStrategy } from './sync/TwoWaySyncStrategy.js';
export { type VectorEntity, type VectorSyncResult, VersionVectorSync } from './sync/VersionVectorSync.js';
export { ChangeTracker, type ChangeTrackerOptions } from './tracking/ChangeTracker.js';
export { type DirtyEntity, DirtyFlagTracker } from './tracking/DirtyFlagTracker.js';
export { AbortError } from './transport/AbortError.js';
export {
  DEFAULT_TIMEOUT_MS,
  HttpRemoteAPI,
  type HttpRemoteAPIOptions,
  type TokenProvider,
  type TokenRequest,
} from './transport/HttpRemoteAPI.js';
export {
  LiveConnection,
  type LiveConnectionOptions,
  type LiveEvent,
  type LiveStatus,
} from './transport/LiveConnection.js';
export type { BatchSyncResponse, PullParams, RemoteAPI, RequestOptions } from './transport/RemoteAPI.js';
export { ServerRules, type ServerRulesSnapshot } from './transport/ServerRules.js';
export { backoffDelay, liveUrlFrom, type WebSocketFactory, type WebSocketLike } from './transport/webSocket.js';
