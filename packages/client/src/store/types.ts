import type { Change, RecordData, VersionVector } from '@ferry/protocol';

/** An entity as the device holds it: its data plus what sync needs to know about it. */
export interface LocalEntity {
  entityType: string;
  entityId: string;
  /** The record's fields; null for a tombstone. */
  data: RecordData | null;
  deleted: boolean;
  /** Local revision, +1 per local write (the seed's per-entity `version`). */
  version: number;
  /** Version vector including local writes not yet pushed. */
  vector: VersionVector;
  /** Stamp of the latest write, local or remote. */
  hlc: string;
  /** Stamp of the latest write of each field. */
  fieldHlcs: Record<string, string>;
  /** Server revision last seen for this entity (0 if never synced). */
  serverVersion: number;
}

/** A pending change in the outbox: the change plus its delivery bookkeeping. */
export interface OutboxEntry extends Change {
  /** Local queue position: pushes go out in this order. */
  seq: number;
  /** Held back (an unresolved conflict on its entity) while the rest of the queue moves. */
  held: boolean;
  attempts: number;
  lastError: string | null;
}

/** A change that can never be applied, kept for the app to inspect, retry or discard. */
export interface DeadLetter {
  change: Change;
  error: { code: string; message: string };
  failedAt: number;
}

/** Filters and ordering for {@link LocalStore.find}. */
export interface FindOptions {
  /** Equality on top-level fields. */
  where?: Record<string, string | number | boolean | null>;
  orderBy?: string;
  order?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

/** What a committed write touched; delivered to store subscribers. */
export interface StoreChangeEvent {
  entityTypes: ReadonlySet<string>;
  /** True when the outbox changed (pending count may differ). */
  outbox: boolean;
}

/** An AsyncStorage-shaped key-value store, for sync state and small apps. */
export interface KeyValueStore {
  getItem(key: string): Promise<string | null>;
  setItem(key: string, value: string): Promise<void>;
  removeItem(key: string): Promise<void>;
}
