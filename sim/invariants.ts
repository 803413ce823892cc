import type { ServerRecord } from '@ferry/protocol';
import type { LoggedChange, ServerStorage } from '@ferry/server';
import type { Ledger } from './ledger.js';
import { cursorKeyOf, type PullTypes, pulls } from './partialSync.js';
import type { SimDevice } from './simDevice.js';

/** A broken invariant: the message names it and what was seen. */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

function fail(message: string): never {
  throw new InvariantError(message);
}

/** Key-order-independent JSON, so equal records compare equal. */
export function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

async function allPages<T>(
  fetchPage: (after: number) => Promise<{ items: T[]; hasMore: boolean }>,
  seq: (item: T) => number,
) {
  const all: T[] = [];
  let after = 0;
  for (let page = 0; page < 100_000; page++) {
    const { items, hasMore } = await fetchPage(after);
    all.push(...items);
    if (!hasMore || items.length === 0) break;
    after = seq(items.at(-1)!);
  }
  return all;
}

/** Every record of a user on the server (tombstones included), by `type/id`. */
export async function serverRecords(storage: ServerStorage, user: string): Promise<Map<string, ServerRecord>> {
  const records = await allPages(
    // A snapshot: below a compaction horizon a plain pull is refused, and tombstones may be gone.
    (cursor) => storage.pull(user, { cursor, limit: 500, snapshot: true }),
    (r) => r.seq,
  );
  return new Map(records.map((r) => [`${r.entityType}/${r.entityId}`, r]));
}

/** A device's live records of `type` (todos unless named) in its private space as `id → canonical data` (id excluded). */
export async function deviceRecords(device: SimDevice, type = 'todos'): Promise<Map<string, string>> {
  const engine = device.engine ?? fail(`${device.name} is not running`);
  const rows = await engine.driver.uncounted(() => engine.store.find(type));
  return new Map(rows.filter((row) => row.space == null).map(({ id, ...data }) => [id, canonical(data)]));
}

/**
 * The server's log of a scope (a user's private space, or a shared space): every change id at
 * most once (exactly-once effect), sequence numbers 1..N without a gap (the cursor can never
 * skip), every acknowledged change present.
 */
export async function checkServerLog(
  storage: ServerStorage,
  scope: string,
  ledger: Ledger,
  /** Names the invariant a lost acknowledged change breaks (shared spaces: `(d) `). */
  lostLabel = '',
): Promise<LoggedChange[]> {
  const log = await allPages(
    (since) => storage.changesSince(scope, { since, limit: 500 }),
    (c) => c.seq,
  );
  const seen = new Set<string>();
  for (const [index, change] of log.entries()) {
    if (seen.has(change.id)) fail(`change ${change.id} is in ${scope}'s server log twice`);
    seen.add(change.id);
    if (change.seq !== index + 1) fail(`${scope}'s log has seq ${change.seq} at position ${index + 1}: a gap`);
  }
  const current = await storage.currentSeq(scope);
  if (current !== log.length) fail(`${scope}'s sequence is ${current} but the log holds ${log.length} changes`);
  for (const acked of ledger.acked.values()) {
    if (acked.scope === scope && !seen.has(acked.changeId)) {
      fail(`${lostLabel}acknowledged change ${acked.changeId} in ${scope} is not on the server`);
    }
  }
  const twice = ledger.appliedTwice();
  if (twice.length > 0) fail(`the server answered "applied" more than once for ${twice.join(', ')}`);
  return log;
}

/** How a message names a record's type: nothing for todos (as messages always did), else `notes/`. */
export function typeLabel(type: string): string {
  return type === 'todos' ? '' : `${type}/`;
}

/**
 * A cursor at quiescence: the scope's sequence when the device pulls every type. With partial
 * sync the server moves a cursor only over records of the types pulled (a snapshot's last page
 * to the compaction horizon), so it must lie past every record of those types (and of `always`,
 * the types every pull carries) and not past the sequence.
 */
export function checkCaughtUp(
  label: string,
  cursor: number,
  seq: number,
  records: ReadonlyMap<string, ServerRecord>,
  types: PullTypes,
  always: readonly string[] = [],
): void {
  if (types === undefined) {
    if (cursor !== seq) fail(`${label} is ${cursor}, the sequence ${seq}`);
    return;
  }
  let last = 0;
  for (const record of records.values()) {
    if (pulls(types, record.entityType) || always.includes(record.entityType)) last = Math.max(last, record.seq);
  }
  if (cursor < last || cursor > seq) {
    fail(`${label} is ${cursor}: it pulls [${types.join(',')}], whose last record is at ${last}, of sequence ${seq}`);
  }
}

/** No todo of another user, on the server or on a device (titles carry the owner). */
export function checkIsolation(where: string, user: string, titles: Iterable<unknown>): void {
  for (const title of titles) {
    if (typeof title !== 'string' || !title.startsWith(`${user}:`)) {
      fail(`${where} (user ${user}) holds a todo titled ${JSON.stringify(title)}`);
    }
  }
}

/**
 * The device's committed cursor never goes back (except inside a flagged reset from a snapshot)
 * and never passes the server's sequence. The cursor is the one of the types the running app
 * pulls: the engine keeps one per set of types, and each is judged on its own.
 */
export async function checkCursor(device: SimDevice, storage: ServerStorage): Promise<number> {
  const engine = device.engine ?? fail(`${device.name} is not running`);
  const key = cursorKeyOf(device.pullTypes);
  const [raw, resetting] = await engine.driver.uncounted(() =>
    Promise.all([engine.store.kv.getItem(key), engine.store.kv.getItem(`${key}:reset`)]),
  );
  const cursor = raw === null ? 0 : Number(raw);
  const seen = device.cursorsSeen.get(key) ?? 0;
  // The one way back: a reset (after compaction, or the first pull under other types) restarts
  // from a snapshot, flagged until it ends.
  if (cursor < seen && resetting === null) {
    fail(`${device.name}'s cursor ${key} went back from ${seen} to ${cursor}`);
  }
  const serverSeq = await storage.currentSeq(device.user);
  if (cursor > serverSeq)
    fail(`${device.name}'s cursor ${cursor} is past ${device.user}'s server sequence ${serverSeq}`);
  device.cursorsSeen.set(key, cursor);
  return cursor;
}

/**
 * Nothing stuck on a device: outbox empty, no dead letter but the server's refusals of writes
 * in shared spaces (FORBIDDEN: a viewer's or a revoked member's write, a non-owner managing).
 */
export async function checkDrained(device: SimDevice): Promise<void> {
  const engine = device.engine ?? fail(`${device.name} is not running`);
  const { pending, dead } = await engine.driver.uncounted(() =>
    engine.store.read(async (tx) => ({ pending: await tx.countPending(), dead: await tx.deadLetters() })),
  );
  if (pending > 0) fail(`${device.name}'s outbox still holds ${pending} changes after healing`);
  const valid = dead.filter((letter) => !(letter.error.code === 'FORBIDDEN' && letter.change.space));
  if (valid.length > 0) {
    const first = valid[0]!;
    fail(
      `${device.name} dead-lettered ${valid.length} valid changes, first ${first.change.id}: ${first.error.message}`,
    );
  }
}
