/**
 * @ferry/client/engine: the building blocks under `createSyncSystem`, for custom transports,
 * platform packages and tools: the store's transaction, the conflict and dead-letter inboxes,
 * the live connection, server rules, defaults, and the error and retry helpers. Apps rarely
 * need them; their types are also exported from `@ferry/client`.
 */

export { ConflictInbox, notifyConflictsChanged, watchConflicts } from './conflicts/ConflictInbox.js';
export { withServerConfig } from './conflicts/serverStrategies.js';
export { stateFromRecord } from './conflicts/stateFromRecord.js';
export { WriteTransaction } from './data/WriteTransaction.js';
export { codeForStatus, toError } from './errors.js';
export { categorizeError } from './retry/categorizeError.js';
export { fromWireError } from './retry/fromWireError.js';
export { parseRetryAfter } from './retry/parseRetryAfter.js';
export { DEFAULT_RETRY_CONFIG } from './retry/SyncErrorHandler.js';
export { defaultSleep } from './retry/sleep.js';
export { defaultTimers } from './signals.js';
export { LiveQuery } from './store/LiveQuery.js';
export { StoreTx } from './store/StoreTx.js';
export { DEFAULT_BATCH_SYNC_OPTIONS } from './sync/batchSyncTypes.js';
export { getOrCreateClientId } from './sync/clientId.js';
export { DeadLetterQueue } from './sync/DeadLetterQueue.js';
export { SyncLoop } from './sync/SyncLoop.js';
export { SyncStatus } from './sync/SyncStatus.js';
export { timestampedFromRecord } from './sync/TimestampBasedSync.js';
export { AbortError } from './transport/AbortError.js';
export { DEFAULT_TIMEOUT_MS } from './transport/HttpRemoteAPI.js';
export { LiveConnection } from './transport/LiveConnection.js';
export { ServerRules } from './transport/ServerRules.js';
export { backoffDelay, liveUrlFrom } from './transport/webSocket.js';
