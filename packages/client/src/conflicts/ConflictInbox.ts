/**
 * The conflict inbox: manual conflicts nobody has decided yet, parked in `ferry_conflicts`
 * with their entity's pending changes held back (the rest of the outbox keeps syncing).
 * Rows survive a restart; a decision turns into ONE new change that dominates both sides.
 *
 *   conflict ─▶ manual strategy ─▶ callback decides ───────────────▶ applied at once
 *                     │
 *                     └─ no callback / it defers ─▶ parked (held) ─▶ resolveConflict() ─▶ new change, sync
 */
import { dominates, type RecordData, RecordDataSchema, type ServerRecord } from '@ferry/protocol';
import * as v from 'valibot';
import { SyncError } from '../errors.js';
import type { LocalStore } from '../store/LocalStore.js';
import type { StoreTx } from '../store/StoreTx.js';
import type { LocalEntity } from '../store/types.js';
import type { ChangeTracker } from '../tracking/ChangeTracker.js';
import { Emitter } from '../util/Emitter.js';
import { conflictTypeOf } from './ConflictDetector.js';
import { allParked, findParked, type ParkedRow, settleParked } from './parkedConflicts.js';
import { applyResolution, differingFields, stateOfEntity } from './reconcile.js';
import type { ConflictType, Resolution, VersionedState } from './types.js';

/** A parked conflict, as `listConflicts()` gives it. `local` is the device's state as it is now. */
export interface StoredConflict {
  id: string;
  entityType: string;
  entityId: string;
  conflictType: ConflictType;
  local: VersionedState;
  server: VersionedState;
  conflictingFields: string[];
  /** When the conflict was (last) parked, in device wall-clock ms. */
  detectedAt: number;
}

/**
 * A decision on a parked conflict. `local` keeps the device's state, `server` takes the
 * server's; `data` (required for `merged`) is the record to keep, `null` to delete it.
 * With `local` or `server`, a given `data` replaces that side's data (an edited pick).
 */
export interface ConflictDecision {
  winner: 'local' | 'server' | 'merged';
  data?: RecordData | null;
}

/** The conflict inbox as the app sees it (`syncManager.conflicts`, `sync.conflicts`). */
export interface ConflictsView {
  /** Every parked conflict, oldest first. */
  list(): Promise<StoredConflict[]>;
  /** Decides a parked conflict (see {@link ConflictInbox.resolve}). */
  resolve(id: string, decision: ConflictDecision): Promise<void>;
  /** Calls `listener` after every change of the inbox; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
}

// Keyed by store, so every inbox and watcher of one store share the events of its conflicts.
const changesByStore = new WeakMap<LocalStore, Emitter<void>>();

function changesOf(store: LocalStore): Emitter<void> {
  let changes = changesByStore.get(store);
  if (!changes) {
    // Isolated: a listener's bug must not undo a conflict decision that already committed.
    changes = new Emitter<void>({ isolateErrors: true });
    changesByStore.set(store, changes);
  }
  return changes;
}

/** Tells everyone watching `store`'s inbox that it changed (after the change committed). */
export function notifyConflictsChanged(store: LocalStore): void {
  changesByStore.get(store)?.emit();
}

/** Calls `listener` after every change of `store`'s conflict inbox; returns the unsubscribe function. */
export function watchConflicts(store: LocalStore, listener: () => void): () => void {
  return changesOf(store).subscribe(listener);
}

/**
 * Lists, watches and resolves the parked conflicts of one store.
 *
 * @example
 * const inbox = new ConflictInbox(changeTracker, { onResolved: () => syncManager.triggerSync() });
 * const [first] = await inbox.list();
 * if (first) await inbox.resolve(first.id, { winner: 'merged', data: { ...first.server.data, ...first.local.data } });
 */
export class ConflictInbox implements ConflictsView {
  readonly #tracker: ChangeTracker;
  readonly #onResolved: (() => void) | undefined;

  constructor(changeTracker: ChangeTracker, options: { onResolved?: () => void } = {}) {
    this.#tracker = changeTracker;
    this.#onResolved = options.onResolved;
  }

  /** Every parked conflict, oldest first. */
  async list(): Promise<StoredConflict[]> {
    return this.#tracker.store.read(async (tx) => {
      const conflicts: StoredConflict[] = [];
      for (const { id, parked, createdAt } of await allParked(tx)) {
        const entity = await tx.getEntity(parked.record.entityType, parked.record.entityId);
        conflicts.push(toStored(id, parked, entity, createdAt));
      }
      return conflicts;
    });
  }

  /**
   * Applies a decision: the entity takes the decided state, its held changes are replaced by
   * one new change (its vector dominates the server's, so the push applies) and the conflict
   * leaves the inbox. An unknown id or a malformed decision throws and changes nothing.
   */
  async resolve(id: string, decision: ConflictDecision): Promise<void> {
    checkDecision(decision);
    const store = this.#tracker.store;
    await store.write(async (tx) => {
      const parked = await readParked(tx, id);
      const { record } = parked;
      const local = await tx.getEntity(record.entityType, record.entityId);
      if (!local) throw new SyncError('VALIDATION_ERROR', `Conflict "${id}" names an entity this device no longer has`);
      if (decision.winner === 'server' && decision.data === undefined && dominates(local.vector, record.vector)) {
        // The device has since taken in a newer server state than the one parked (a pull past
        // it, a reset): the server's side is what the device holds now. Adopting the parked
        // record would bring back a state the server has left behind.
        await settleParked(tx, record.entityType, record.entityId);
        return;
      }
      const pending = await tx.pendingFor(record.entityType, record.entityId);
      await this.#tracker.restoreClock(tx);
      const outcome = await applyResolution(
        tx,
        this.#tracker,
        { info: parked.info, record, localHlc: local.hlc, pendingIds: pending.map((change) => change.id) },
        decided(decision, local, record, this.#tracker.clock.now()),
      );
      if (outcome === 'stale' || outcome === 'parked') {
        throw new SyncError('UNKNOWN_ERROR', `Resolving conflict "${id}" came out ${outcome}; nothing was changed`);
      }
    });
    notifyConflictsChanged(store);
    this.#onResolved?.();
  }

  /** Calls `listener` after every change of the inbox; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    return watchConflicts(this.#tracker.store, listener);
  }
}

function checkDecision(decision: ConflictDecision): void {
  if (typeof decision !== 'object' || decision === null || !['local', 'server', 'merged'].includes(decision.winner)) {
    throw new SyncError(
      'VALIDATION_ERROR',
      "resolveConflict needs { winner: 'local' | 'server' | 'merged', data? }; got " +
        JSON.stringify(decision)?.slice(0, 120),
    );
  }
  if (decision.winner === 'merged' && decision.data === undefined) {
    throw new SyncError('VALIDATION_ERROR', "A 'merged' decision needs `data`: the record to keep (null deletes it)");
  }
  if (decision.data !== undefined && decision.data !== null) {
    const parsed = v.safeParse(RecordDataSchema, decision.data);
    if (!parsed.success) {
      throw new SyncError('VALIDATION_ERROR', `Invalid data in the decision: ${parsed.issues[0]?.message ?? ''}`);
    }
  }
}

async function readParked(tx: StoreTx, id: string): Promise<ParkedRow> {
  const parked = await findParked(tx, id);
  if (!parked) {
    throw new SyncError(
      'VALIDATION_ERROR',
      `No conflict "${String(id).slice(0, 300)}" in the inbox (already resolved?); listConflicts() gives the open ones`,
    );
  }
  return parked;
}

/**
 * The resolution a decision amounts to. A decision is a new write made now, so it carries a
 * fresh stamp: it beats everything this device has seen, as a person's later choice should.
 */
function decided(decision: ConflictDecision, local: LocalEntity, record: ServerRecord, hlc: string): Resolution {
  if (decision.data !== undefined) {
    const deleted = decision.data === null;
    return { winner: 'merged', resolvedData: deleted ? null : decision.data, deleted, strategy: 'manual', hlc };
  }
  if (decision.winner === 'server') {
    return { winner: 'server', resolvedData: record.data, deleted: record.deleted, strategy: 'manual' };
  }
  return { winner: 'local', resolvedData: local.data, deleted: local.deleted, strategy: 'manual', hlc };
}

function toStored(id: string, parked: ParkedRow, entity: LocalEntity | null, detectedAt: number): StoredConflict {
  const { info, record } = parked;
  const local = entity ? stateOfEntity(entity) : info.localVersion;
  const localDeleted = entity ? entity.deleted : info.localVersion.deleted === true;
  const conflictType = conflictTypeOf(localDeleted, record.deleted);
  return {
    id,
    entityType: record.entityType,
    entityId: record.entityId,
    conflictType,
    local,
    server: info.serverVersion,
    conflictingFields:
      conflictType === 'update-update'
        ? differingFields(entity ? entity.data : info.localVersion.data, record.data)
        : [],
    detectedAt,
  };
}
