import type { KeyValueStore, ResolutionStrategy, SyncSystemConfig } from '@ferry/client';

/**
 * The engine settings a headless task rebuilds the engine from. Plain JSON, written by the
 * running app when it enables background sync; secrets (tokens) never go here: the headless
 * factory gets them from where the app keeps them.
 */
export interface PersistedSyncConfig {
  apiBaseUrl: string;
  clientId?: string;
  conflictStrategy?: ResolutionStrategy;
  entityStrategies?: Record<string, ResolutionStrategy>;
  batchSize?: number;
  pageSize?: number;
  pullTypes?: string[];
  timeoutMs?: number;
}

const CONFIG_KEY = 'ferry:backgroundSyncConfig';
const FIELDS = [
  'apiBaseUrl',
  'clientId',
  'conflictStrategy',
  'entityStrategies',
  'batchSize',
  'pageSize',
  'pullTypes',
  'timeoutMs',
] as const satisfies ReadonlyArray<keyof PersistedSyncConfig & keyof SyncSystemConfig>;

/** Keeps only the persistable fields, so a whole `createSyncSystem` config can be passed. */
export function toPersistedConfig(config: PersistedSyncConfig): PersistedSyncConfig {
  const out: Record<string, unknown> = {};
  for (const field of FIELDS) if (config[field] !== undefined) out[field] = config[field];
  return out as unknown as PersistedSyncConfig;
}

/** Writes the configuration the headless task will read. */
export async function savePersistedConfig(storage: KeyValueStore, config: PersistedSyncConfig): Promise<void> {
  await storage.setItem(CONFIG_KEY, JSON.stringify(toPersistedConfig(config)));
}

/** Reads the persisted configuration; null when background sync was never enabled (or is off). */
export async function loadPersistedConfig(storage: KeyValueStore): Promise<PersistedSyncConfig | null> {
  const saved = await storage.getItem(CONFIG_KEY);
  if (!saved) return null;
  const parsed = JSON.parse(saved) as Partial<PersistedSyncConfig>;
  return typeof parsed.apiBaseUrl === 'string' ? toPersistedConfig(parsed as PersistedSyncConfig) : null;
}

/** Forgets the configuration, so a headless task does nothing (background sync disabled). */
export async function clearPersistedConfig(storage: KeyValueStore): Promise<void> {
  await storage.removeItem(CONFIG_KEY);
}
