import type {
  Change,
  MultiPullRequest,
  MultiPullResponse,
  PullResponse,
  PushRequest,
  PushResponse,
  RecordData,
  ServerConfig,
  ServerRecord,
} from '@ferry/protocol';

/** Per-request options every transport call takes. */
export interface RequestOptions {
  /** Aborts the request (SyncManager.stop() uses it). */
  signal?: AbortSignal;
}

/** Parameters of a pull. `cursor` is the server's sequence, never a wall clock. */
export interface PullParams {
  cursor: number;
  limit?: number;
  /** Narrow the pull to these entity types (partial sync). */
  types?: readonly string[];
  /** Set while re-syncing from a snapshot after `RESET_REQUIRED` (cursor 0 and the pages that follow). */
  snapshot?: boolean;
}

/** Result of `batchSync`: which changes of the batch failed, and why. */
export interface BatchSyncResponse {
  success: boolean;
  failed: Array<{ changeId: string; error: { code: string; message: string; retryable: boolean } }>;
}

/**
 * What the sync engine needs of the server: push, pull, and (optionally) the server's
 * configuration and the shared spaces' pull. `SyncManager`, the push and pull phases and the
 * adapters over them take any object of this shape, so a custom transport is three functions.
 * Every method rejects with a `SyncError`.
 *
 * @example
 * const transport: SyncTransport = {
 *   push: (request, options) => http.push(request, options),
 *   pull: (params, options) => http.pull(params, options),
 *   getConfig: (options) => http.getConfig(options),
 * };
 */
export interface SyncTransport {
  /** `POST /v1/push`: a result per change, in order. */
  push(request: PushRequest, options?: RequestOptions): Promise<PushResponse>;
  /** `GET /v1/pull`: a page of the latest entity states after `cursor`. */
  pull(params: PullParams, options?: RequestOptions): Promise<PullResponse>;
  /**
   * `GET /v1/config`: protocol versions, entity types, conflict strategies, limits. Optional:
   * without it the device checks writes against the protocol's own limits only.
   */
  getConfig?(options?: RequestOptions): Promise<ServerConfig>;
  /**
   * `POST /v1/pull`: pages of every shared space of the user after the checkpoint's cursors,
   * and the user's membership list. Optional: without it the device syncs its private space only.
   */
  pullSpaces?(request: Partial<MultiPullRequest>, options?: RequestOptions): Promise<MultiPullResponse>;
}

/**
 * The server's wider API: the {@link SyncTransport} the engine runs on, plus the per-entity
 * REST calls and the batch and change-log routes that `BatchSync` and apps use directly.
 * {@link HttpRemoteAPI} speaks it over HTTP. Every method rejects with a `SyncError`.
 */
export interface RemoteAPI extends SyncTransport {
  /** `GET /v1/config`: protocol versions, entity types, conflict strategies, limits. */
  getConfig(options?: RequestOptions): Promise<ServerConfig>;
  /** `POST /v1/batch`: a batch of changes, answered with the ones that failed (used by BatchSync). */
  batchSync(changes: Change[], options?: RequestOptions): Promise<BatchSyncResponse>;
  /** `GET /v1/changes?since=`: the applied-change log after a server sequence number. */
  getChangesSince(since: number, options?: RequestOptions): Promise<Change[]>;
  /** `GET /v1/entities/:type`: every live record of a type (small types only). */
  getAll(entityType: string, options?: RequestOptions): Promise<ServerRecord[]>;
  /** `POST /v1/entities/:type`: create; `data.id` names the entity, else the server picks one. */
  create(entityType: string, data: RecordData, options?: RequestOptions): Promise<ServerRecord>;
  /** `PUT /v1/entities/:type/:id`: patch the named fields. */
  update(entityType: string, entityId: string, data: RecordData, options?: RequestOptions): Promise<ServerRecord>;
  /** `DELETE /v1/entities/:type/:id`. */
  delete(entityType: string, entityId: string, options?: RequestOptions): Promise<void>;
}
