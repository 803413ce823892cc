import type { Operation, RecordData } from '@ferry/protocol';
import { SyncError } from '../errors.js';
import type { StoreTx } from './StoreTx.js';

/** What records a local write as a change to sync (a {@link ChangeTracker}). */
export interface ChangeRecorder {
  trackChangeIn(
    tx: StoreTx,
    entityType: string,
    entityId: string,
    operation: Operation,
    data: RecordData | null,
  ): Promise<unknown>;
  /** Runs first in every write transaction of the store (the tracker restores its clock here). */
  beginWrite?(tx: StoreTx): Promise<void>;
  /**
   * Runs last in every write transaction of the store, before its COMMIT (the tracker keeps its
   * clock recoverable here). The function it returns, if any, runs once the commit succeeded.
   */
  beforeCommit?(tx: StoreTx): Promise<(() => void) | undefined>;
}

/** The recorder `LocalStore.upsert` / `delete` need, or a clear error saying how to get one. */
export function requireRecorder(recorder: ChangeRecorder | undefined, method: string): ChangeRecorder {
  if (recorder) return recorder;
  throw new SyncError(
    'VALIDATION_ERROR',
    `LocalStore.${method}() records a change to sync, but no ChangeTracker has been made on this store: ` +
      'make one (new ChangeTracker(store, clientId)) or write through createSyncSystem(...).collection(name)',
    { retryable: false },
  );
}

/** Creates the record when missing or deleted, else updates its given fields; recorded in the outbox. */
export async function upsertIn(
  tx: StoreTx,
  recorder: ChangeRecorder,
  entityType: string,
  entityId: string,
  data: RecordData,
): Promise<void> {
  const existing = await tx.getEntity(entityType, entityId);
  const operation = existing && !existing.deleted ? 'UPDATE' : 'CREATE';
  await recorder.trackChangeIn(tx, entityType, entityId, operation, data);
}

/** Deletes a live record (a tombstone that syncs); a missing or deleted one is left alone. */
export async function deleteIn(
  tx: StoreTx,
  recorder: ChangeRecorder,
  entityType: string,
  entityId: string,
): Promise<void> {
  const existing = await tx.getEntity(entityType, entityId);
  if (existing && !existing.deleted) await recorder.trackChangeIn(tx, entityType, entityId, 'DELETE', null);
}
