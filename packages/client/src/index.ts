/**
 * @ferry/client: the platform-agnostic sync engine. Platform facts (network, foreground,
 * which SQLite) are plugged in; nothing here imports React Native or Node-only modules.
 *
 * The root names what an app uses: `createSyncSystem` and the sync classes, the store, the
 * HTTP transport, the errors, and every type. Building blocks live on subpaths:
 * `@ferry/client/engine` (store transaction, inboxes, live connection, error helpers, ...),
 * `@ferry/client/protocol` (the wire protocol, re-exported) and `@ferry/client/better-sqlite3`
 * (the Node driver). In this repository, `@ferry/client/testing` names the store contract and
 * virtual timers for tests; it is not published.
 */
export type * from '@ferry/protocol';
export { compareVersions, defineSchema, incrementVector, mergeVersionVectors } from '@ferry/protocol';
export { ConflictDetector } from './conflicts/ConflictDetector.js';
export type { ConflictDecision, ConflictInbox, ConflictsView, StoredConflict } from './conflicts/ConflictInbox.js';
export { ConflictResolver } from './conflicts/ConflictResolver.js';
export type { ConflictResolverLike } from './conflicts/resolveConflicts.js';
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
export { Collection, type Doc, type InsertOptions } from './data/Collection.js';
export { type SpaceInfo, type SpaceMember, Spaces, subjectOfToken } from './data/Spaces.js';
export type { TxCollection, WriteTransaction } from './data/WriteTransaction.js';
export type { SyncDiagnostics } from './diagnostics.js';
export { HttpError, NetworkError, SyncError, SyncErrorCode, type SyncErrorOptions, TimeoutError } from './errors.js';
export type { WireError } from './retry/fromWireError.js';
export {
  type ExecuteWithRetryOptions,
  type FailedOperation,
  type RetryConfig,
  SyncErrorHandler,
  type SyncErrorHandlerOptions,
} from './retry/SyncErrorHandler.js';
export type { Sleep } from './retry/sleep.js';
export { Signal, type Timers } from './signals.js';
export type { ChangeSource, LiveQuery, ReadSet } from './store/LiveQuery.js';
export { type CountScope, LocalStore, type LocalStoreOptions } from './store/LocalStore.js';
export type { SqlDriver, SqlExecutor, SqlResult, SqlRow, SqlValue } from './store/SqlDriver.js';
export type { StoreTx } from './store/StoreTx.js';
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
export { BatchSync } from './sync/BatchSync.js';
export type {
  BatchProgress,
  BatchResult,
  BatchSyncConfig,
  BatchSyncOptions,
  BatchSyncResult,
  FailedChange,
} from './sync/batchSyncTypes.js';
export type { DeadLetterQueue, DeadLettersView } from './sync/DeadLetterQueue.js';
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
export type { SpacesPullResult } from './sync/pullSpaces.js';
export type { CycleOutcome, SyncLoop, SyncLoopHooks, SyncUrgency, SyncWork } from './sync/SyncLoop.js';
export { SyncManager } from './sync/SyncManager.js';
export type { SyncStatusView } from './sync/SyncStatus.js';
export type {
  LiveChannel,
  SyncConfig,
  SyncErrorRecord,
  SyncPause,
  SyncPhase,
  SyncProgressState,
  SyncResult,
  SyncState,
} from './sync/syncTypes.js';
export {
  type CategorizedChanges,
  type ConflictPair,
  TimestampBasedSync,
  type TimestampedEntity,
  type TimestampSyncResult,
} from './sync/TimestampBasedSync.js';
export { type TwoWaySyncResult, TwoWaySyncStrategy } from './sync/TwoWaySyncStrategy.js';
export { type VectorEntity, type VectorSyncResult, VersionVectorSync } from './sync/VersionVectorSync.js';
export { ChangeTracker, type ChangeTrackerOptions, type TrackOptions } from './tracking/ChangeTracker.js';
export { type DirtyEntity, DirtyFlagTracker } from './tracking/DirtyFlagTracker.js';
export type { AbortError } from './transport/AbortError.js';
export {
  HttpRemoteAPI,
  type HttpRemoteAPIOptions,
  type TokenProvider,
  type TokenRequest,
} from './transport/HttpRemoteAPI.js';
export type { LiveConnection, LiveConnectionOptions, LiveEvent, LiveStatus } from './transport/LiveConnection.js';
export type {
  BatchSyncResponse,
  PullParams,
  RemoteAPI,
  RequestOptions,
  SyncTransport,
} from './transport/RemoteAPI.js';
export type { ServerRules, ServerRulesSnapshot } from './transport/ServerRules.js';
export type { WebSocketFactory, WebSocketLike } from './transport/webSocket.js';
