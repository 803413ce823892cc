import type { Change, ChangeResult, Role, ServerRecord } from '@ferry/protocol';
import { HttpError } from '../errors.js';
import type { RateCounter } from '../rateLimit/RateCounter.js';

/** A record as the apply decision builds it; the storage assigns `seq` when it writes it. */
export type UnsequencedRecord = Omit<ServerRecord, 'seq'>;

/** What the storage knows about one change when it asks what to do with it. */
export interface DecideInput {
  change: Change;
  /** The entity's state in the push's scope (a tombstone, or null when it never existed). */
  current: ServerRecord | null;
  /** True when the scope's applied-change log already holds `change.id`. */
  alreadyApplied: boolean;
  /**
   * The pushing user's role in the scope (a shared space), read inside the push transaction
   * after its lock, so a concurrent revocation is seen in commit order. Present only when
   * {@link ApplyOptions.actor} was given; null for a non-member.
   */
  actorRole?: Role | null;
  /**
   * The space's membership before this change, read in the same transaction. Present for
   * `$member` changes when {@link ApplyOptions.actor} was given: it is what keeps a space with
   * members from losing its last owner.
   */
  roster?: SpaceRoster;
}

/** The head count of a shared space's membership, and the role of the member a `$member` change is about. */
export interface SpaceRoster {
  owners: number;
  members: number;
  /** The current role of the change's member (`<space>:<user>`), null when not a member. */
  subjectRole: Role | null;
}

/**
 * A membership side effect of an applied `$space` / `$member` change, written in the same
 * transaction as the change's record and log entry.
 */
export type MembershipEffect =
  /** Creates (with `createdBy`, who becomes its owner) or renames a space. */
  | { kind: 'space'; space: string; name: string; createdBy?: string }
  /** Grants or changes a role, or removes the member (`role: null`). */
  | { kind: 'member'; space: string; user: string; role: Role | null };

/** Options of {@link ServerStorage.applyChanges}. */
export interface ApplyOptions {
  /** The pushing user: the storage reads their role in the scope for {@link DecideInput.actorRole}. */
  actor?: string | undefined;
}

/** A shared space of a user, with the space's current sequence (what an idle pull compares with). */
export interface SpaceState {
  id: string;
  name: string;
  role: Role;
  seq: number;
}

/**
 * What to do with one change: write a new state (and log `change` as applied), or only
 * report a result and change nothing.
 */
export type Decision =
  | { kind: 'write'; record: UnsequencedRecord; change: Change; effect?: MembershipEffect }
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

/** Options of {@link ServerStorage.pull}. */
export interface PullOptions {
  cursor: number;
  limit: number;
  types?: readonly string[] | undefined;
  /** The client is re-syncing from a snapshot: skip the horizon check. */
  snapshot?: boolean | undefined;
}

/** A page of a scan: `hasMore` is true when rows past the page exist. */
export interface Page<T> {
  items: T[];
  hasMore: boolean;
}

/** A page of {@link ServerStorage.pull}. */
export interface PullPage extends Page<ServerRecord> {
  /**
   * Where the client continues, when that is past the last item: the last page of a snapshot
   * ends at the compaction horizon, so the device's next pull is not refused again.
   */
  cursor?: number;
  /** Snapshot pages: the scope's pull horizon, read after the page's rows. */
  horizon?: number;
}

/**
 * Marks `page` as a snapshot page read under `horizon`: it carries the horizon (a client resets
 * again when it rises), and the last page ends at least at the horizon, so the device's next
 * plain pull is not refused.
 */
export function asSnapshotPage(page: PullPage, cursor: number, horizon: number): PullPage {
  page.horizon = horizon;
  if (!page.hasMore) page.cursor = Math.max(page.items.at(-1)?.seq ?? cursor, horizon);
  return page;
}

/**
 * The sync server's storage. Every method is scoped: a scope never sees another's rows. A
 * scope is a space: a user's private space is the scope equal to the token's `sub`; a shared
 * space's scope is its `sp_…` id, and its members are kept in the storage's membership tables. Methods are async so that a networked backend (PostgreSQL) can implement it.
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
  applyChanges(
    scope: string,
    changes: readonly Change[],
    decide: ChangeDecider,
    options?: ApplyOptions,
  ): Promise<ApplyOutcome>;
  /**
   * Every shared space `user` belongs to (Ferry-managed membership), with each space's name,
   * the user's role and the space's current seq, in ONE query: an idle multi-space pull
   * compares these seqs with the device's cursors and reads nothing else.
   */
  memberships(user: string): Promise<SpaceState[]>;
  /** The user's role in a shared space, or null. */
  roleOf(space: string, user: string): Promise<Role | null>;
  /** The members of a shared space (user ids), for live pokes. */
  members(space: string): Promise<string[]>;
  /** The current seq of each scope (0 when it has written nothing), in one query. */
  currentSeqs(scopes: readonly string[]): Promise<Map<string, number>>;
  /** The entity's current state (tombstones included), or null. */
  getRecord(scope: string, entityType: string, entityId: string): Promise<ServerRecord | null>;
  /**
   * Records with `seq > cursor`, in seq order, optionally only of `types`. A cursor below the
   * compaction horizon throws {@link CursorExpiredError}, unless `snapshot` says the client is
   * re-syncing from cursor 0 (it then holds nothing the removed tombstones could have deleted).
   */
  pull(scope: string, options: PullOptions): Promise<PullPage>;
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
  /**
   * Calls `listener(scope, seq)` after every committed transaction that wrote something, with
   * the scope's latest seq. Live pokes hang off it. A backend shared by several processes
   * (PostgreSQL LISTEN/NOTIFY) reports commits made by every process, so pokes fan out. A
   * listener that throws does not affect the commit or other listeners. Returns unsubscribe.
   */
  onCommit(listener: (scope: string, seq: number) => void): () => void;
  /**
   * Calls `listener(pushes)` after every durable commit with the number of pushes it carried,
   * on a backend that commits pushes in groups (SQLite). Absent where each push commits on its
   * own. Returns unsubscribe.
   */
  onGroupCommit?(listener: (pushes: number) => void): () => void;
  /**
   * History compaction: removes tombstones written before `tombstonesBefore` and applied-change
   * log entries logged before `changesBefore` (epoch ms; omit one to keep that history), and
   * raises each affected scope's horizon, so a cursor older than the removed history gets a
   * {@link CursorExpiredError} instead of silently missing a delete.
   */
  compact(options: CompactOptions): Promise<CompactResult>;
  /**
   * What the inspector shows of the storage: its size on disk and, for each of `scopes`, the
   * head seq and the compaction horizons. Ids and numbers only. Optional: a storage without it
   * shows as "unknown" in the inspector.
   */
  inspect?(scopes: readonly string[]): Promise<StorageInspection>;
  /**
   * For each `{ scope, cursor }`, when the first change after `cursor` in `scope` was written
   * (epoch ms, from the change log, else the oldest surviving record), or null when nothing
   * after it is known: how long a lagging device has been behind, the same on every process.
   */
  firstWriteAfter?(cursors: ReadonlyArray<{ scope: string; cursor: number }>): Promise<Array<number | null>>;
  /** Releases the connection; further calls fail. Safe to call twice. */
  close(): Promise<void>;
  /**
   * A rate-limit counter shared by every process on this storage (PostgreSQL). Absent on a
   * single-process backend, where the server counts in memory.
   */
  createRateCounter?(): RateCounter;
  /**
   * Optional bulk path for `GET /v1/pull`: {@link pull} (never a snapshot) already rendered as
   * response JSON, each record's stored JSON spliced in unparsed. It must give exactly the rows,
   * order and horizon check `pull` gives, and the text `JSON.stringify` of them would. Returns
   * undefined when it cannot stand in for `pull` (e.g. `pull` was replaced on the instance to
   * inject a fault): the route then calls `pull`. With `compact`, a record whose field stamps
   * a client can rebuild (`fieldHlcsTextOmittable`) goes out without them: the text
   * `JSON.stringify` of `pull`'s records through `compactRecord` would give.
   */
  pullJson?(scope: string, options: Omit<PullOptions, 'snapshot'> & { compact?: boolean }): PullJsonPage | undefined;
}

/** A page of {@link ServerStorage.pullJson}: the records as comma-separated JSON objects. */
export interface PullJsonPage {
  /** UTF-8 bytes: the socket takes them as they are, with no second encoding of the page. */
  records: Buffer;
  count: number;
  /** Seq of the last record, undefined when the page is empty. */
  lastSeq: number | undefined;
  hasMore: boolean;
}

/** One scope as {@link ServerStorage.inspect} reports it. */
export interface ScopeInspection {
  scope: string;
  /** Latest seq (0: nothing written). */
  head: number;
  /** Pulls from below this seq are refused (tombstones removed by compaction); 0: none removed. */
  pullHorizon: number;
  /** Change-log reads from below this seq are refused (applied changes removed); 0: none removed. */
  logHorizon: number;
}

/** What {@link ServerStorage.inspect} answers. */
export interface StorageInspection {
  /** `sqlite` or `postgres`. */
  backend: string;
  /**
   * Bytes Ferry's data takes: SQLite's pages plus its write-ahead log; on PostgreSQL Ferry's
   * tables with their indexes and TOAST. Null when unknown.
   */
  sizeBytes: number | null;
  /** The scopes asked about, in the order asked; unknown scopes at 0. */
  scopes: ScopeInspection[];
}

/** What {@link ServerStorage.compact} removes: history older than these instants (epoch ms). */
export interface CompactOptions {
  tombstonesBefore?: number | undefined;
  changesBefore?: number | undefined;
}

/** How many rows {@link ServerStorage.compact} removed. */
export interface CompactResult {
  tombstones: number;
  changes: number;
}

/**
 * A pull or change-log cursor older than the compaction horizon: the history it would need is
 * gone. Answered as 410 `RESET_REQUIRED`; the client re-syncs from a snapshot (cursor 0).
 */
export class CursorExpiredError extends HttpError {
  readonly horizon: number;

  constructor(cursor: number, horizon: number) {
    super(410, {
      code: 'RESET_REQUIRED',
      message: `Cursor ${cursor} is older than the server's history (kept from ${horizon}); reset and pull from 0`,
    });
    this.horizon = horizon;
  }
}
