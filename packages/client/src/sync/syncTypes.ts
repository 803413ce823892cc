import type { ConflictResolverLike } from '../conflicts/resolveConflicts.js';
import type { SyncErrorHandler } from '../retry/SyncErrorHandler.js';
import type { Signal, Timers } from '../signals.js';
import type { LocalStore } from '../store/LocalStore.js';
import type { ChangeTracker } from '../tracking/ChangeTracker.js';
import type { LiveEvent } from '../transport/LiveConnection.js';
import type { SyncTransport } from '../transport/RemoteAPI.js';
import type { PullResult } from './PullSyncStrategy.js';
import type { PushResult } from './PushSyncStrategy.js';

/** One recorded sync failure in `SyncState.syncErrors`: a failed cycle, or one change the push could not deliver. */
export interface SyncErrorRecord {
  changeId?: string;
  errorCode: string;
  message: string;
  retryCount: number;
  lastRetryTimestamp: number;
}

/**
 * Why automatic syncing is on hold: `auth` until a token works again (see
 * {@link SyncManager.resume}), `offline` / `background` until the platform signal flips back.
 */
export type SyncPause = 'auth' | 'offline' | 'background';

/**
 * The manager's state, persisted in the store. `pendingChanges` is a COUNT, not the list:
 * the outbox may hold more changes than fit in memory, and the UI only needs the number.
 */
export interface SyncState {
  lastSyncTimestamp: number;
  pendingChanges: number;
  syncInProgress: boolean;
  syncErrors: SyncErrorRecord[];
  /** Server sequence this device has pulled up to. */
  cursor: number;
  isOnline: boolean;
  /** Why automatic syncs are on hold, or null when they run. `auth` wins over the others. */
  paused: SyncPause | null;
}

/** Phases of the progress feed behind `<SyncProgress>`. */
export type SyncPhase = 'idle' | 'preparing' | 'uploading' | 'downloading' | 'complete' | 'error';

/** What `subscribeToProgress` listeners receive: the phase and its counts. */
export interface SyncProgressState {
  phase: SyncPhase;
  totalItems: number;
  processedItems: number;
  currentItem?: string;
  error?: string;
}

/** Result of a full sync. */
export interface SyncResult {
  push: PushResult;
  pull: PullResult;
}

/** The live-poke channel as the manager drives it; {@link LiveConnection} is the real one. */
export interface LiveChannel {
  start(): void;
  stop(): void;
  subscribe(listener: (event: LiveEvent) => void): () => void;
}

/** Configuration of a {@link SyncManager}: store, transport, policies, and the pluggable platform parts. */
export interface SyncConfig {
  localStore: LocalStore;
  remoteAPI: SyncTransport;
  conflictResolver?: ConflictResolverLike;
  /** Periodic sync, in ms; 0 turns it off. Default 60 000. */
  syncInterval?: number;
  /** Changes per push request. Default 2,000 (the protocol maximum); never more than the server says it takes. */
  batchSize?: number;
  /**
   * Records per pull page, 1 to 2,000. Default 2,000 (`LIMITS.maxPullLimit`, the protocol
   * maximum); never more than the server says it takes in `/v1/config`, and at most 1,000
   * (`LIMITS.legacyMaxPullLimit`) for a server that says nothing and before its config is read.
   */
  pageSize?: number;
  /** Partial sync: pull only these entity types. */
  pullTypes?: readonly string[];
  changeTracker?: ChangeTracker;
  /** The device id; read from (or created in) the store when absent. */
  clientId?: string;
  errorHandler?: SyncErrorHandler;
  /** Network availability; a platform package feeds it (NetInfo). */
  online?: Signal<boolean>;
  /** Foreground state; a platform package feeds it (AppState). */
  appActive?: Signal<boolean>;
  /** Server pokes: a sync runs when one says the server is ahead. Runs only while online and active. */
  live?: LiveChannel;
  /** Delay between a local write and the sync it triggers, coalescing bursts. Default 300 ms; -1 off. */
  writeDebounceMs?: number;
  /** How long `complete` shows before the feed returns to `idle`. Default 1500 ms. */
  completeDisplayMs?: number;
  timers?: Timers;
  now?: () => number;
  /** Start listening to triggers at once. Default true. */
  autoStart?: boolean;
}
