import { isSpaceId } from '@ferry/protocol';
import type { ScopeInspection, ServerStorage } from '../storage/ServerStorage.js';
import type { DeviceRegistry } from './DeviceRegistry.js';
import type { ScopeHistory } from './ScopeHistory.js';

/** What the device and space answers read. */
export interface ScopeAnswerDeps {
  storage: ServerStorage;
  devices: DeviceRegistry;
  history: ScopeHistory;
  now: () => number;
}

/** One device's place in one space, as `GET /v1/admin/devices` lists it. */
export interface CursorAnswer {
  space: string | null;
  cursor: number;
  head: number;
  lagRecords: number;
  /** Since the first change it lacks was written (null: caught up, or unknown). */
  lagMs: number | null;
  /** The cursor is below the space's compaction horizon: its next pull answers 410 and it re-syncs. */
  mustReset: boolean;
  pulledAt: number;
  lastPushAt: number | null;
}

/** One space (a user's private one or a shared one), as `GET /v1/admin/spaces` lists it. */
export interface SpaceAnswer extends ScopeInspection {
  kind: 'private' | 'shared';
  lastPushAt: number | null;
  /** Devices this process saw pull this space. */
  devices: number;
  /** Of those, how many lack records. */
  behind: number;
  maxLagRecords: number;
  maxLagMs: number | null;
}

/** Scopes answered at most: the inspector is a page, not an export. */
const MAX_SCOPES = 500;
/** Lagging cursors whose lag time is read from the database per answer; past it, from this process's memory. */
const MAX_LAG_LOOKUPS = 1_000;

/** Head and horizons of `scopes` in one round trip (the head alone when the storage cannot inspect). */
async function inspectScopes(storage: ServerStorage, scopes: readonly string[]): Promise<Map<string, ScopeInspection>> {
  if (storage.inspect) {
    const inspection = await storage.inspect(scopes);
    return new Map(inspection.scopes.map((scope) => [scope.scope, scope]));
  }
  const heads = await storage.currentSeqs(scopes);
  return new Map(scopes.map((scope) => [scope, { scope, head: heads.get(scope) ?? 0, pullHorizon: 0, logHorizon: 0 }]));
}

/** Every tracked device with its cursors, head, lag in records and time, and whether it must reset. */
export async function devicesAnswer(deps: ScopeAnswerDeps) {
  const now = deps.now();
  const devices = deps.devices.list();
  const scopes = new Set<string>();
  for (const device of devices) for (const entry of device.cursors) scopes.add(entry.space ?? device.user);
  const facts = await inspectScopes(deps.storage, [...scopes]);
  // How long each lagging cursor has been behind: from the database when it can say (the same
  // answer on every process), else from the commits this process saw.
  const lagging = devices
    .flatMap((device) => device.cursors.map((entry) => ({ scope: entry.space ?? device.user, cursor: entry.cursor })))
    .filter((entry) => (facts.get(entry.scope)?.head ?? 0) > entry.cursor)
    .slice(0, MAX_LAG_LOOKUPS);
  const written = deps.storage.firstWriteAfter ? await deps.storage.firstWriteAfter(lagging) : [];
  const writtenAt = new Map(lagging.map((entry, i) => [`${entry.scope}\u0000${entry.cursor}`, written[i] ?? null]));
  return {
    now,
    devices: devices.map((device) => ({
      user: device.user,
      deviceId: device.deviceId,
      report: device.report,
      firstSeenAt: device.firstSeenAt,
      lastSeenAt: device.lastSeenAt,
      lastPushAt: device.lastPushAt,
      lastPullAt: device.lastPullAt,
      cursors: device.cursors.map((entry): CursorAnswer => {
        const scope = entry.space ?? device.user;
        const fact = facts.get(scope);
        const head = fact?.head ?? 0;
        const behind = Math.max(0, head - entry.cursor);
        const since =
          behind === 0
            ? null
            : (writtenAt.get(`${scope}\u0000${entry.cursor}`) ?? deps.history.firstCommitAfter(scope, entry.cursor));
        return {
          space: entry.space,
          cursor: entry.cursor,
          head,
          lagRecords: behind,
          lagMs: since === null ? null : Math.max(0, now - since),
          mustReset: entry.cursor > 0 && entry.cursor < (fact?.pullHorizon ?? 0),
          pulledAt: entry.pulledAt,
          lastPushAt: deps.history.lastPushAt(scope),
        };
      }),
    })),
  };
}

/**
 * Every space this process has seen pushed into or pulled from (at most 500, most recently
 * pushed first): head seq, compaction horizons, last push, and how far its devices lag.
 */
export async function spacesAnswer(deps: ScopeAnswerDeps): Promise<{ now: number; spaces: SpaceAnswer[] }> {
  const now = deps.now();
  const lags = new Map<string, Array<{ records: number; ms: number | null }>>();
  const { devices } = await devicesAnswer(deps);
  for (const device of devices) {
    for (const cursor of device.cursors) {
      const scope = cursor.space ?? device.user;
      let list = lags.get(scope);
      if (!list) {
        list = [];
        lags.set(scope, list);
      }
      list.push({ records: cursor.lagRecords, ms: cursor.lagMs });
    }
  }
  const pushed = deps.history.scopes().reverse();
  const scopes = [...new Set([...pushed, ...lags.keys()])].slice(0, MAX_SCOPES);
  const facts = await inspectScopes(deps.storage, scopes);
  const spaces = scopes.map((scope): SpaceAnswer => {
    const fact = facts.get(scope) ?? { scope, head: 0, pullHorizon: 0, logHorizon: 0 };
    const cursors = lags.get(scope) ?? [];
    const behind = cursors.filter((cursor) => cursor.records > 0);
    const lagTimes = behind.flatMap((cursor) => (cursor.ms === null ? [] : [cursor.ms]));
    return {
      ...fact,
      kind: isSpaceId(scope) ? 'shared' : 'private',
      lastPushAt: deps.history.lastPushAt(scope),
      devices: cursors.length,
      behind: behind.length,
      maxLagRecords: Math.max(0, ...cursors.map((cursor) => cursor.records)),
      maxLagMs: lagTimes.length === 0 ? null : Math.max(...lagTimes),
    };
  });
  return { now, spaces };
}
