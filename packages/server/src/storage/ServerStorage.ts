import type { Change, ChangeResult, ServerRecord } from '@ferry/protocol';

/** A record as the apply decision builds it; the storage assigns `seq` when it writes it. */
export type UnsequencedRecord = Omit<ServerRecord, 'seq'>;

/** What the storage knows about one change when it asks what to do with it. */
export interface DecideInput {
  change: Change;
  /** The entity's state in the push's scope (a tombstone, or null when it never existed). */
  current: ServerRecord | null;
  /** True when the scope's applied-change log already holds `change.id`. */
  alreadyApplied: boolean;
}

/**
 * What to do with one change: write a new state (and log `change` as applied), or only
 * report a result and change nothing.
 */
export type Decision =
  | { kind: 'write'; record: UnsequencedRecord; change: Change }
  | { kind: 'skip'; result: ChangeResult };

/** The apply decision: synchronous and free of I/O, so every storage backend runs the same one. */
export type ChangeDecider = (input: DecideInput) => Decision;

/** An applied change as the log returns it, with the sequence number it was applied at. */
export type LoggedChange = Change & { seq: number };

/** Outcome of {@link ServerStorage.applyChanges}. */
export interface ApplyOutcome {
  /** One per change, in order. */
  results: ChangeResult[];
  /** The scope's sequence after the transaction. */
  cursor: number;
}

/** A page of a scan: `hasMore` is true when rows past the page exist. */
export interface Page<T> {
  items: T[];
  hasMore: boolean;
}

/**
 * The sync server's storage. Every method is scoped: a scope (the token's `sub`) never sees
 * another's rows. Methods are async so that a networked backend (PostgreSQL) can implement it.
 *
 * Sequence numbers are per scope, start at 1, and are gap-free in commit order: a reader that
 * has seen seq N has seen every change committed with a seq at or below N.
 */
export interface ServerStorage {
  /**
   * Runs a push as ONE transaction: for each change in order, looks up the log and the current
   * record, asks `decide`, and writes what it says (new seq, record, log entry). If anything
   * throws, nothing of the push is kept.
   */
  applyChanges(scope: string, changes: readonly Change[], decide: ChangeDecider): Promise<ApplyOutcome>;
  /** The entity's current state (tombstones included), or null. */
  getRecord(scope: string, entityType: string, entityId: string): Promise<ServerRecord | null>;
  /** Records with `seq > cursor`, in seq order, optionally only of `types`. */
  pull(
    scope: string,
    options: { cursor: number; limit: number; types?: readonly string[] | undefined },
  ): Promise<Page<ServerRecord>>;
  /** Applied changes with `seq > since`, in seq order. */
  changesSince(scope: string, options: { since: number; limit: number }): Promise<Page<LoggedChange>>;
  /** Live (not deleted) records of a type with `entityId > after`, ordered by entity id. */
  listRecords(
    scope: string,
    entityType: string,
    options: { after?: string | undefined; limit: number },
  ): Promise<Page<ServerRecord>>;
  /** The scope's latest sequence number (0 when it has written nothing). */
  currentSeq(scope: string): Promise<number>;
  /** Releases the connection; further calls fail. Safe to call twice. */
  close(): Promise<void>;
}
