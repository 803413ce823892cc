import { PROTOCOL_VERSION, redactReason } from '@ferry/protocol';
import type { StoredConflict } from './conflicts/ConflictInbox.js';
import type { SyncSystemConfig } from './SyncSystem.js';
import type { LocalStore } from './store/LocalStore.js';
import type { DeadLetter, OutboxEntry } from './store/types.js';
import type { SyncState } from './sync/syncTypes.js';
import { SDK_VERSION } from './version.js';

/**
 * A redacted snapshot of a device's sync engine, for a bug report: counts, ids, codes, cursors,
 * versions and settings. Never a record's contents, never a token.
 */
export interface SyncDiagnostics {
  /** When it was taken (device wall clock, ms). */
  takenAt: number;
  clientId: string;
  versions: { sdk: string; protocol: number; app: string | null };
  /** The SQL driver under the local store. */
  driver: string;
  state: {
    isOnline: boolean;
    syncInProgress: boolean;
    paused: SyncState['paused'];
    lastSyncTimestamp: number;
  };
  /** Where pulls left the device: the private space's cursor. */
  cursors: { private: number };
  /** Pending changes per entity type and operation. */
  outbox: { total: number; byType: Record<string, Partial<Record<'CREATE' | 'UPDATE' | 'DELETE', number>>> };
  /** Conflicts parked for a decision, per entity type. */
  conflicts: { parked: number; byType: Record<string, number> };
  /** Changes the server refused for good: which, and why. */
  deadLetters: Array<{
    changeId: string;
    entityType: string;
    operation: string;
    code: string;
    message: string;
    failedAt: number;
  }>;
  /** The engine's recent errors, newest last. */
  lastErrors: Array<{ code: string; message: string; changeId: string | null; retryCount: number; at: number }>;
  /** The configuration, without tokens or callbacks. */
  settings: Record<string, string | number | boolean | null | Record<string, string>>;
}

/** Longest message kept: server and engine messages name fields and codes, and this bounds any surprise. */
const MAX_MESSAGE = 200;

/** What {@link collectDiagnostics} reads. */
export interface DiagnosticsSources {
  clientId: string;
  config: SyncSystemConfig;
  localStore: LocalStore;
  state: SyncState;
  pending: () => Promise<OutboxEntry[]>;
  conflicts: () => Promise<StoredConflict[]>;
  deadLetters: () => Promise<DeadLetter[]>;
  now: () => number;
}

function redactMessage(message: string): string {
  // Bearer tokens and JWTs never belong in a report, whatever put them in a message; nor does
  // a value the server's message quotes back.
  return redactReason(message)
    .replace(/Bearer\s+\S+/gi, 'Bearer [redacted]')
    .replace(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g, '[redacted token]')
    .slice(0, MAX_MESSAGE);
}

/** The configuration values worth seeing in a report; functions and tokens are left out by construction. */
function settingsOf(config: SyncSystemConfig): SyncDiagnostics['settings'] {
  const settings: SyncDiagnostics['settings'] = {};
  if (config.apiBaseUrl) {
    // The origin only: a path or query could hold a key someone put there. (A regex: React
    // Native's URL has no `origin`.)
    settings.server = /^https?:\/\/[^/?#@]+/i.exec(config.apiBaseUrl)?.[0] ?? '[unparsed]';
  }
  for (const key of ['syncInterval', 'batchSize', 'pageSize', 'writeDebounceMs', 'timeoutMs', 'autoStart'] as const) {
    const value = config[key];
    if (value !== undefined) settings[key] = value;
  }
  settings.conflictStrategy = config.conflictStrategy ?? 'last-write-wins';
  if (config.entityStrategies) settings.entityStrategies = { ...config.entityStrategies };
  settings.live = config.live === undefined ? false : config.live !== false;
  settings.backgroundSync = config.backgroundSync !== undefined;
  if (config.pullTypes) settings.pullTypes = config.pullTypes.join(',');
  return settings;
}

/** Builds a {@link SyncDiagnostics} snapshot. */
export async function collectDiagnostics(sources: DiagnosticsSources): Promise<SyncDiagnostics> {
  const [pending, conflicts, deadLetters] = await Promise.all([
    sources.pending(),
    sources.conflicts(),
    sources.deadLetters(),
  ]);
  const byType: SyncDiagnostics['outbox']['byType'] = {};
  for (const change of pending) {
    const counts = byType[change.entityType] ?? {};
    byType[change.entityType] = counts;
    counts[change.operation] = (counts[change.operation] ?? 0) + 1;
  }
  const conflictTypes: Record<string, number> = {};
  for (const conflict of conflicts) conflictTypes[conflict.entityType] = (conflictTypes[conflict.entityType] ?? 0) + 1;
  const { state } = sources;
  return {
    takenAt: sources.now(),
    clientId: sources.clientId,
    versions: { sdk: SDK_VERSION, protocol: PROTOCOL_VERSION, app: sources.config.appVersion ?? null },
    driver: sources.localStore.driverName,
    state: {
      isOnline: state.isOnline,
      syncInProgress: state.syncInProgress,
      paused: state.paused,
      lastSyncTimestamp: state.lastSyncTimestamp,
    },
    cursors: { private: state.cursor },
    outbox: { total: pending.length, byType },
    conflicts: { parked: conflicts.length, byType: conflictTypes },
    deadLetters: deadLetters.map((letter) => ({
      changeId: letter.change.id,
      entityType: letter.change.entityType,
      operation: letter.change.operation,
      code: letter.error.code,
      message: redactMessage(letter.error.message),
      failedAt: letter.failedAt,
    })),
    lastErrors: state.syncErrors.slice(-10).map((error) => ({
      code: error.errorCode,
      message: redactMessage(error.message),
      changeId: error.changeId ?? null,
      retryCount: error.retryCount,
      at: error.lastRetryTimestamp,
    })),
    settings: settingsOf(sources.config),
  };
}
