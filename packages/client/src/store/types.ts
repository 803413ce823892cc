import type { Change, RecordData, VersionVector } from '@ferry/protocol';

/** An entity as the device holds it: its data plus what sync needs to know about it. */
export interface LocalEntity {
  entityType: string;
  entityId: string;
  /** The record's fields; null for a tombstone. */
  data: RecordData | null;
  deleted: boolean;
  /** Local revision of the entity, +1 per local write. */
  version: number;
  /** Version vector including local writes not yet pushed. */
  vector: VersionVector;
  /** Stamp of the latest write, local or remote. */
  hlc: string;
  /** Stamp of the latest write of each field. */
  fieldHlcs: Record<string, string>;
  /** Server revision last seen for this entity (0 if never synced). */
  serverVersion: number;
  /** The shared space the record lives in; absent (or null) for the private space. */
  space?: string | null;
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

/** A value a query compares a field with. */
export type QueryValue = string | number | boolean;

/**
 * Conditions on one field, all of which must hold. `ne` and `notIn` also match records where
 * the field is null or absent (unlike SQL's `!=`); `like` is SQLite's LIKE (`%`, `_`,
 * case-insensitive for ASCII); `startsWith` and `contains` are case-sensitive.
 */
export interface FieldCondition<V extends QueryValue = QueryValue> {
  eq?: V | null;
  ne?: V | null;
  gt?: V;
  gte?: V;
  lt?: V;
  lte?: V;
  in?: readonly V[];
  notIn?: readonly V[];
  like?: string;
  startsWith?: string;
  contains?: string;
  /** true: the field is null or absent; false: it has a value. */
  isNull?: boolean;
}

type ConditionOn<V> = [Exclude<V, null | undefined>] extends [QueryValue]
  ? Exclude<V, null | undefined> | null | FieldCondition<Exclude<V, null | undefined>>
  : null | FieldCondition<never>;

/**
 * A filter: each key is a field (or `id`) with a value (equality; `null` matches null or
 * absent) or a {@link FieldCondition}; `and` / `or` combine filters. All keys must hold.
 * Typed by the record type of a schema-typed collection; free-form for untyped ones.
 */
export type Where<T = RecordData> = string extends keyof T
  ? { [field: string]: QueryValue | null | FieldCondition | ReadonlyArray<Where> | undefined }
  : { [K in keyof T & string]?: ConditionOn<T[K]> } & {
      id?: string | FieldCondition<string>;
      and?: ReadonlyArray<Where<T>>;
      or?: ReadonlyArray<Where<T>>;
    };

/**
 * One sort key: a field name (ascending), or a field with its direction and where nulls go
 * (SQLite's default: first when ascending, last when descending). Asking for the other place
 * costs a sort step the indexes cannot save.
 */
export type SortKey<T = RecordData> =
  | (keyof T & string)
  | 'id'
  | { field: (keyof T & string) | 'id'; direction?: 'asc' | 'desc'; nulls?: 'first' | 'last' };

/**
 * Filters, ordering and paging for {@link LocalStore.find} and `Collection.query`. Runs in
 * SQLite and uses the declared indexes. Ties are broken by id, so pages are stable.
 */
export interface FindOptions<T = RecordData> {
  where?: Where<T>;
  /** One field, or several sort keys in order. */
  orderBy?: SortKey<T> | ReadonlyArray<SortKey<T>>;
  /** Direction of a single `orderBy` field given by name. Default `asc`. */
  order?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
  /** Only records of this shared space (`null`: only the private space). Omit for every space. */
  space?: string | null;
}

/** What a committed write touched; delivered to store subscribers. */
export interface StoreChangeEvent {
  entityTypes: ReadonlySet<string>;
  /** True when the outbox changed (pending count may differ). */
  outbox: boolean;
  /** Changes in the outbox once the write committed (held ones included); set when `outbox` is. */
  pendingChanges?: number;
}

/** An AsyncStorage-shaped key-value store, for sync state and small apps. */
export interface KeyValueStore {
  getItem(key: string): Promise<string | null>;
  setItem(key: string, value: string): Promise<void>;
  removeItem(key: string): Promise<void>;
}
