import { ENTITY_TYPE_PATTERN, LIMITS, type PullResponse, type SpacePage } from '@ferry/protocol';
import { applyServerRecords, type DetectedConflict } from '../conflicts/reconcile.js';
import { type ConflictResolverLike, resolveConflicts } from '../conflicts/resolveConflicts.js';
import { SyncError } from '../errors.js';
import type { ChangeTracker } from '../tracking/ChangeTracker.js';
import type { SyncTransport } from '../transport/RemoteAPI.js';
import { settled, unwrap } from '../util/settled.js';
import { yieldToEventLoop } from '../util/yieldToEventLoop.js';
import { pullSpaces, type SpacesPullResult } from './pullSpaces.js';
import { entityKey, isResetRequired, resetFlagKey, sweepAfterReset } from './resetFromSnapshot.js';

/** Summary of a pull: counts, pages, conflicts and the cursor it reached. */
export interface PullResult {
  totalChanges: number;
  successful: number;
  failed: number;
  conflicts: number;
  pages: number;
  cursor: number;
  /** The shared spaces' part (null when the transport or the server has none). */
  spaces?: SpacesPullResult | null;
}

/** Options of a {@link PullSyncStrategy}. */
export interface PullSyncOptions {
  conflictResolver?: ConflictResolverLike;
  /**
   * Records per page (1 to {@link LIMITS.maxPullLimit}; default {@link LIMITS.defaultPullLimit}).
   * A request asks for no more than the server takes: what its `/v1/config` said, else
   * {@link LIMITS.legacyMaxPullLimit} (see {@link ServerRules.pullLimit}).
   */
  pageSize?: number;
  /** Partial sync: pull only these entity types. */
  types?: readonly string[];
}

/** Per-call options of {@link PullSyncStrategy.pullChanges}. */
export interface PullCallOptions {
  signal?: AbortSignal;
  /** Overrides the strategy's resolver for this call. */
  conflictResolver?: ConflictResolverLike;
  onProgress?: (progress: { processed: number; total: number }) => void;
}

/**
 * Turns of the event loop given to the next page's request before a page is applied: enough for
 * a new connection's connect and the request's write (see {@link yieldToEventLoop}).
 */
const REQUEST_TURNS = 3;

/** Upper bound on pages per pull, so a misbehaving server cannot spin the client forever. */
const MAX_PAGES = 1_000_000;

/**
 * Pull phase: pages through the server's change sequence from the saved cursor. Each page
 * and the cursor that follows it commit in ONE local transaction, so an app killed mid-pull
 * resumes from the last page it applied and never skips one. Memory holds one page at a time.
 */
export class PullSyncStrategy {
  readonly #api: SyncTransport;
  readonly #tracker: ChangeTracker;
  readonly #resolver: ConflictResolverLike | undefined;
  readonly #pageSize: number;
  readonly #types: readonly string[] | undefined;
  readonly #cursorKey: string;

  constructor(api: SyncTransport, changeTracker: ChangeTracker, options: PullSyncOptions = {}) {
    this.#api = api;
    this.#tracker = changeTracker;
    this.#resolver = options.conflictResolver;
    const pageSize = options.pageSize ?? LIMITS.defaultPullLimit;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > LIMITS.maxPullLimit) {
      throw new SyncError('VALIDATION_ERROR', `pageSize must be an integer from 1 to ${LIMITS.maxPullLimit}`);
    }
    this.#pageSize = pageSize;
    if (options.types) {
      for (const type of options.types) {
        if (!ENTITY_TYPE_PATTERN.test(type)) throw new SyncError('VALIDATION_ERROR', `Invalid entity type "${type}"`);
      }
      this.#types = [...options.types].sort();
    }
    // A cursor belongs to the set of types it was pulled with.
    this.#cursorKey = this.#types ? `ferry:cursor:${this.#types.join(',')}` : 'ferry:cursor';
  }

  /** Records the next page asks for: the page size, within what the server takes. */
  #limit(): number {
    return this.#tracker.rules.pullLimit(this.#pageSize);
  }

  /** The saved cursor: the server sequence this device has applied up to. */
  async getCursor(): Promise<number> {
    const value = await this.#tracker.store.kv.getItem(this.#cursorKey);
    return value === null ? 0 : Number(value);
  }

  /**
   * Where a pull starts, read in one transaction: the saved cursor, whether a reset is under
   * way, and whether this device pulled its private space before under other types than now
   * (a cursor saved under another set of types, none under these).
   */
  async #startState(flagKey: string): Promise<{ cursor: number; resetting: boolean; typesChanged: boolean }> {
    return this.#tracker.store.read(async (tx) => {
      const saved = await tx.getKv(this.#cursorKey);
      const resetting = (await tx.getKv(flagKey)) !== null;
      let typesChanged = false;
      if (saved === null && !resetting) {
        const { rows } = await tx.execute(
          `SELECT 1 FROM ferry_kv WHERE (key = 'ferry:cursor' OR key LIKE 'ferry:cursor:%') AND key NOT LIKE '%:reset' LIMIT 1`,
        );
        typesChanged = rows.length > 0;
      }
      return { cursor: saved === null ? 0 : Number(saved), resetting, typesChanged };
    });
  }

  /** Pulls until the server has nothing more. Rejects when a request fails; applied pages stay applied. */
  async pullChanges(options: PullCallOptions = {}): Promise<PullResult> {
    const store = this.#tracker.store;
    // --- reset after history compaction (see resetFromSnapshot.ts) ---
    const flagKey = resetFlagKey(this.#cursorKey);
    const start = await this.#startState(flagKey);
    let cursor = start.resetting ? 0 : start.cursor;
    let seen: Set<string> | null = start.resetting ? new Set() : null;
    // The horizon the reset's first page was read under (a crashed reset starts over anyway).
    let resetHorizon: number | undefined;
    // --- end reset ---
    const result: PullResult = { totalChanges: 0, successful: 0, failed: 0, conflicts: 0, pages: 0, cursor };
    const fetchPage = (from: number, snapshot: boolean) =>
      settled(
        this.#api.pull(
          {
            cursor: from,
            limit: this.#limit(),
            ...(this.#types ? { types: this.#types } : {}),
            ...(snapshot ? { snapshot: true } : {}),
          },
          options.signal ? { signal: options.signal } : {},
        ),
      );
    // The next page is requested before this one is applied, and is on the wire before the
    // page's transaction starts, so the server builds it while we apply this one. It only ever
    // holds data: the cursor still moves in the transaction that applies a page, and an unused
    // prefetch (an error, a reset) is dropped unread.
    let prefetched: ReturnType<typeof fetchPage> | undefined;
    const startReset = async () => {
      await store.write(async (tx) => {
        await tx.setKv(flagKey, '1');
        await tx.setKv(this.#cursorKey, '0');
      });
      cursor = 0;
      seen = new Set();
      resetHorizon = undefined;
    };
    // The first pull under other types than before reads from 0: a record deleted since the old
    // cursor, its tombstone compacted, is not named by that read. Read it as a reset, so the
    // sweep at its end removes what the server no longer holds.
    if (start.typesChanged) await startReset();
    // One page and its cursor, in one transaction (a GET page, or the private page of a POST).
    const applyPage = async (response: Pick<PullResponse, 'changes' | 'cursor' | 'hasMore'>) => {
      if (response.cursor < cursor || (response.hasMore && response.cursor === cursor)) {
        throw new SyncError('PROTOCOL_ERROR', `The server's cursor did not advance (${cursor} → ${response.cursor})`);
      }
      if (response.hasMore) {
        prefetched = fetchPage(response.cursor, seen !== null);
        // Let the request leave before the page's transaction: on a synchronous driver the
        // transaction holds the event loop, and the request would otherwise reach the server
        // only somewhere inside it (wherever its chain of promises let it through).
        await yieldToEventLoop(REQUEST_TURNS);
      }
      const conflicts: DetectedConflict[] = [];
      await store.write(async (tx) => {
        await this.#tracker.restoreClock(tx);
        await tx.prefetch(response.changes, { mostlyNew: true });
        if (seen) for (const record of response.changes) seen.add(entityKey(record.entityType, record.entityId));
        conflicts.push(...(await applyServerRecords(tx, response.changes, this.#tracker.clock)));
        await tx.setKv(this.#cursorKey, String(response.cursor));
      });
      cursor = response.cursor;
      result.pages++;
      result.totalChanges += response.changes.length;
      result.successful += response.changes.length - conflicts.length;
      result.conflicts += conflicts.length;
      result.cursor = cursor;
      const resolver = options.conflictResolver ?? this.#resolver;
      if (conflicts.length > 0 && resolver) await resolveConflicts(store, this.#tracker, resolver, conflicts);
      options.onProgress?.({
        processed: result.totalChanges,
        total: result.totalChanges + (response.hasMore ? this.#limit() : 0),
      });
    };
    // --- one request for every space: the private cursor rides in the checkpoint of POST
    // /v1/pull, so an idle sync is that one request. Only the rest of a private pull that has
    // more than a page (or a reset) goes on below with GET pages, prefetched. ---
    const spaceOptions = {
      signal: options.signal,
      pageSize: this.#pageSize,
      conflictResolver: options.conflictResolver ?? this.#resolver,
      // pullTypes narrows every space alike (the server adds the spaces' own records).
      types: this.#types,
    };
    let shared: SpacesPullResult | null | undefined;
    let privatePage: SpacePage | undefined;
    if (!seen) {
      shared = await pullSpaces(this.#api, this.#tracker, {
        ...spaceOptions,
        private: {
          cursor,
          apply: async (page) => {
            privatePage = page;
            if (page.reset) await startReset();
            else await applyPage(page);
          },
        },
      });
    }
    // A server from before spaces (null) is pulled page by page below, as always.
    const privateDone = shared != null && (!privatePage || (!privatePage.reset && !privatePage.hasMore));
    // --- end one request ---
    for (let page = 0; page < MAX_PAGES && !privateDone; page++) {
      let response: Awaited<ReturnType<SyncTransport['pull']>>;
      try {
        response = unwrap(await (prefetched ?? fetchPage(cursor, seen !== null)));
        prefetched = undefined;
      } catch (error) {
        prefetched = undefined;
        // --- reset after history compaction: start over from a snapshot, outbox untouched ---
        if (!isResetRequired(error) || cursor === 0) throw error;
        await startReset();
        continue;
        // --- end reset ---
      }
      // --- reset: a compaction during it may have removed the tombstone of an entity an
      // earlier page delivered live, which the sweep would then keep: start it over ---
      if (seen && response.horizon !== undefined) {
        if (resetHorizon === undefined || cursor === 0) resetHorizon = response.horizon;
        else if (response.horizon > resetHorizon) {
          prefetched = undefined;
          await startReset();
          continue;
        }
      }
      // --- end reset ---
      await applyPage(response);
      if (!response.hasMore) break;
    }
    if (seen) {
      const snapshot = seen;
      await store.write((tx) => sweepAfterReset(tx, snapshot, this.#types, flagKey));
    }
    // --- shared spaces, when the request above did not carry them (pullSpaces.ts) ---
    if (shared === undefined) shared = await pullSpaces(this.#api, this.#tracker, spaceOptions);
    result.spaces = shared ?? null;
    if (shared) {
      result.totalChanges += shared.totalChanges;
      result.successful += shared.totalChanges - shared.conflicts;
      result.conflicts += shared.conflicts;
      result.pages += shared.pages;
    }
    return result;
  }
}
