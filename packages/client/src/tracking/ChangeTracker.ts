import {
  type Change,
  ChangeSchema,
  decodeHlc,
  describeIssues,
  fastChange,
  HybridLogicalClock,
  isReservedType,
  type Operation,
  type RecordData,
} from '@ferry/protocol';
import * as v from 'valibot';
import { SyncError } from '../errors.js';
import type { LocalStore } from '../store/LocalStore.js';
import type { StoreTx } from '../store/StoreTx.js';
import { stripOutbox } from '../store/StoreTx.js';
import type { LocalEntity, OutboxEntry } from '../store/types.js';
import { changeBytes, pushBodyBytes } from '../transport/pushBody.js';
import { ServerRules } from '../transport/ServerRules.js';
import { nextVector } from './ownCounter.js';

/**
 * Key under which a stamp at or past the clock's last one is kept, whenever the outbox's newest
 * change does not already hold it (see {@link ChangeTracker}'s "Clock recovery").
 */
const CLOCK_KEY = 'ferry:hlc';

/** Options of a {@link ChangeTracker}. */
export interface ChangeTrackerOptions {
  /** The device's clock; share one between tracker and sync engine. */
  clock?: HybridLogicalClock;
  /** Random source for change-id suffixes; injectable for deterministic runs. */
  random?: () => number;
  /** What the server accepts (declared types, body limit); share one with the sync engine. */
  rules?: ServerRules;
}

/**
 * Records local writes. The entity write and its outbox entry commit in ONE transaction:
 * an app killed at any instant keeps both or neither.
 *
 * Clock recovery: the clock never goes back across a restart or a crash. At every commit of a
 * write transaction, the stamp recovered at the next start, the later of the `ferry:hlc` key
 * and the outbox's newest change's stamp (when it is this device's own), is at or past the
 * clock's last stamp, so at or past every stamp the device issued or adopted before. A local
 * write's own change is the outbox's newest row and carries the last stamp, so it writes no
 * key; a transaction that may take the newest row off the outbox (an acknowledged push, a
 * resolution) or advances the clock otherwise (a pulled stamp) writes the key once, before its
 * COMMIT. The store runs {@link beginWrite} and {@link beforeCommit} around every write
 * transaction of the tracker it is bound to.
 *
 * @example
 * const tracker = new ChangeTracker(store, 'device-a');
 * await tracker.trackChange('todos', 'todo-1', 'CREATE', { title: 'Milk' });
 */
export class ChangeTracker {
  readonly clientId: string;
  readonly clock: HybridLogicalClock;
  /** What the server accepts; writes it could never take fail here, at once. */
  readonly rules: ServerRules;
  readonly #store: LocalStore;
  readonly #random: () => number;
  #clockRestored = false;
  /** A stamp the `ferry:hlc` key is known to hold or pass ('' for none), as of the last commit. */
  #savedStamp = '';
  /** A stamp the clock recovered at a restart is known to reach, as of the last commit. */
  #recoverable = '';

  constructor(db: LocalStore, clientId: string, options: ChangeTrackerOptions = {}) {
    this.#store = db;
    this.clientId = clientId;
    this.clock = options.clock ?? new HybridLogicalClock(clientId);
    if (this.clock.node !== clientId) {
      throw new SyncError(
        'VALIDATION_ERROR',
        `The clock's node "${this.clock.node}" must be the client id "${clientId}"`,
      );
    }
    this.#random = options.random ?? Math.random;
    this.rules = options.rules ?? new ServerRules();
    // The store's own upsert/delete record their writes through the first tracker made on it.
    db.useRecorder(this);
  }

  /**
   * The tracker of `store` for `clientId`: the one already made on the store when it has that
   * client id, else a new one. Every part of the engine that writes to a store goes through
   * this, so one device has ONE tracker and ONE clock per store (two clocks would hand out
   * overlapping stamps).
   */
  static of(store: LocalStore, clientId: string): ChangeTracker {
    const bound = store.recorder;
    return bound instanceof ChangeTracker && bound.clientId === clientId ? bound : new ChangeTracker(store, clientId);
  }

  /** The store this tracker writes to. */
  get store(): LocalStore {
    return this.#store;
  }

  /**
   * Applies a local write and queues it for push, atomically. `data` is the whole record
   * for CREATE, the changed fields for UPDATE, and ignored for DELETE. Bad input throws a
   * `SyncError('VALIDATION_ERROR')` and changes nothing; so does a write the server could
   * never accept: an entity type it does not declare (once it has said which it declares) or
   * a change too large for one request.
   */
  async trackChange(
    entityType: string,
    entityId: string,
    operation: Operation,
    data: RecordData | null | undefined,
    options: TrackOptions = {},
  ): Promise<Change> {
    return this.#store.write((tx) => this.trackChangeIn(tx, entityType, entityId, operation, data, options));
  }

  /** {@link trackChange} inside a transaction the caller already holds. */
  async trackChangeIn(
    tx: StoreTx,
    entityType: string,
    entityId: string,
    operation: Operation,
    data: RecordData | null | undefined,
    options: TrackOptions = {},
  ): Promise<Change> {
    await this.restoreClock(tx);
    if (!isReservedType(entityType)) this.rules.assertKnownType(entityType);
    const existing = await tx.getEntity(entityType, entityId);
    const space = spaceOfWrite(entityType, entityId, existing, options.space);
    const hlc = this.clock.now();
    const change: Change = {
      id: this.#changeId(hlc),
      entityType,
      entityId,
      operation,
      data: operation === 'DELETE' ? null : (data ?? {}),
      timestamp: this.clock.physicalNow(),
      hlc,
      version: (existing?.version ?? 0) + 1,
      vector: await nextVector(tx, existing?.vector ?? {}, this.clientId),
      clientId: this.clientId,
      ...(space ? { space } : {}),
    };
    // The fast check accepts only what ChangeSchema accepts (fastChange.test.ts holds the two
    // to the same verdicts); what it cannot vouch for goes through ChangeSchema, whose verdict
    // and message stand.
    if (fastChange(change) === undefined) {
      const parsed = v.safeParse(ChangeSchema, change);
      if (!parsed.success) {
        throw new SyncError(
          'VALIDATION_ERROR',
          `Invalid ${operation} of ${entityType}: ${describeIssues(parsed.issues)}`,
        );
      }
    }
    this.#assertFits(change);
    await tx.putEntity(applyLocalChange(existing, change));
    await tx.insertChange(change);
    await this.saveClock(tx);
    return change;
  }

  /**
   * Loads the clock's last stamp (the later of the `ferry:hlc` key and the outbox's newest
   * change of this device), and the server rules learned by an earlier run, once per tracker
   * (call inside a transaction, before anything in it takes changes off the outbox).
   */
  async restoreClock(tx: StoreTx): Promise<void> {
    if (this.#clockRestored) return;
    const saved = (await tx.getKv(CLOCK_KEY)) ?? '';
    const newest = this.#ownStamp(await tx.newestQueuedHlc());
    if (saved) this.clock.advanceTo(saved);
    if (newest) this.clock.advanceTo(newest);
    this.#savedStamp = saved;
    this.#recoverable = maxStamp(saved, newest);
    await this.rules.restore((key) => tx.getKv(key));
    this.#clockRestored = true;
  }

  /** `stamp` when this device issued it, else '' (another node's stamp is never adopted unchecked). */
  #ownStamp(stamp: string | null | undefined): string {
    return stamp && decodeHlc(stamp).node === this.clock.node ? stamp : '';
  }

  /** The store's hook at the start of each write transaction: the clock is restored first. */
  async beginWrite(tx: StoreTx): Promise<void> {
    await this.restoreClock(tx);
  }

  /**
   * The store's hook before each COMMIT: writes the clock's last stamp under `ferry:hlc` when
   * what the transaction leaves would not recover it (see the class comment), and returns
   * what the tracker knows after the commit.
   */
  async beforeCommit(tx: StoreTx): Promise<(() => void) | undefined> {
    if (!this.#clockRestored) return undefined;
    const tail = tx.outboxTail;
    let saved = this.#savedStamp;
    // Recovery reads the key and the outbox's newest row; the newest row is what this
    // transaction queued last, unchanged, or unknown (it may have been taken off).
    let recoverable = tail === undefined ? this.#recoverable : maxStamp(saved, this.#ownStamp(tail));
    const last = this.clock.last;
    if (last > recoverable) {
      await tx.raiseKv(CLOCK_KEY, last);
      saved = maxStamp(saved, last);
      recoverable = maxStamp(recoverable, last);
    }
    return () => {
      this.#savedStamp = saved;
      this.#recoverable = recoverable;
    };
  }

  /** A change that cannot fit in a request alone could never sync: refuse it now. */
  #assertFits(change: Change): void {
    const limit = this.rules.maxBodyBytes;
    const bytes = pushBodyBytes(this.clientId, [changeBytes(change)]);
    if (bytes <= limit) return;
    throw new SyncError(
      'VALIDATION_ERROR',
      `This ${change.operation} of ${change.entityType} "${change.entityId}" is ${bytes} bytes as JSON, but the server ` +
        `accepts requests of at most ${limit} bytes, so it could never sync. Keep large content (files, images) ` +
        'outside the record and store a reference to it instead.',
      { serverCode: 'PAYLOAD_TOO_LARGE', retryable: false },
    );
  }

  /**
   * Keeps the clock's last stamp (call in the transaction that used it): a restart never
   * reissues it. The store's commit hook does this for the tracker bound to it, so only another
   * tracker on the same store writes here.
   */
  async saveClock(tx: StoreTx): Promise<void> {
    if (this.#store.recorder === this) return;
    await tx.raiseKv(CLOCK_KEY, this.clock.last);
  }

  /** Pending changes in the order they were made (held ones, awaiting a manual resolution, excluded). */
  async getPendingChanges(limit = -1): Promise<OutboxEntry[]> {
    return this.#store.read((tx) => tx.pendingChanges(limit));
  }

  /** Removes a pushed change from the outbox. Unknown ids are ignored (a replayed ack). */
  markAsSynced(changeId: string | readonly string[]): Promise<void> {
    return this.#store.markAsSynced(changeId);
  }

  /** Pending changes made after `timestamp` (ms). */
  async getChangesSince(timestamp: number): Promise<Change[]> {
    const entries = await this.#store.read((tx) => tx.pendingSince(timestamp));
    return entries.map(stripOutbox);
  }

  /** A fresh change id (for changes the engine makes, such as conflict resolutions). */
  newChangeId(): string {
    return this.#changeId(this.clock.now());
  }

  #changeId(hlc: string): string {
    // The stamp is unique per client; the suffix guards against two installs sharing an id.
    const suffix = Math.floor(this.#random() * 36 ** 6)
      .toString(36)
      .padStart(6, '0');
    return `${hlc}.${suffix}`;
  }
}

/** The later of two stamps ('' for none): stamps sort by time as strings. */
function maxStamp(a: string, b: string): string {
  return b > a ? b : a;
}

/** Options of {@link ChangeTracker.trackChange}. */
export interface TrackOptions {
  /** The shared space the write is in (default: the record's, or the private space for a new record). */
  space?: string | null | undefined;
}

/**
 * The space a write goes to: the one asked for (which must be the record's, when the device
 * holds it), else the record's. A record never moves between spaces.
 */
function spaceOfWrite(
  entityType: string,
  entityId: string,
  existing: LocalEntity | null,
  requested: string | null | undefined,
): string | undefined {
  const held = existing?.space ?? undefined;
  if (requested === undefined) return held;
  const wanted = requested ?? undefined;
  if (existing !== null && held !== wanted) {
    throw new SyncError(
      'VALIDATION_ERROR',
      `${entityType} "${entityId}" exists in ${held ? `space ${held}` : 'the private space'}; a record never moves ` +
        'between spaces: create a new record in the other space and delete this one',
    );
  }
  return wanted;
}

/** The entity after a local change is applied to it. */
export function applyLocalChange(existing: LocalEntity | null, change: Change): LocalEntity {
  const fieldHlcs: Record<string, string> = change.operation === 'CREATE' ? {} : { ...(existing?.fieldHlcs ?? {}) };
  for (const field of Object.keys(change.data ?? {})) fieldHlcs[field] = change.fieldHlcs?.[field] ?? change.hlc;
  const data =
    change.operation === 'DELETE'
      ? null
      : change.operation === 'CREATE'
        ? { ...(change.data ?? {}) }
        : { ...(existing?.deleted ? {} : (existing?.data ?? {})), ...(change.data ?? {}) };
  return {
    entityType: change.entityType,
    entityId: change.entityId,
    data,
    deleted: change.operation === 'DELETE',
    version: change.version,
    vector: change.vector,
    hlc: change.hlc,
    fieldHlcs,
    serverVersion: existing?.serverVersion ?? 0,
    ...(change.space ? { space: change.space } : {}),
  };
}
