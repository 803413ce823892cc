import type { KeyValueStore, SyncResult } from '@ferry/client';
import type { BackgroundFetchEvent, BackgroundFetchLike } from '../optionalPeers';
import { loadPersistedConfig, type PersistedSyncConfig } from './persistedConfig';

/** The part of a `SyncSystem` a headless task drives. */
export interface HeadlessSyncSystem {
  forceSync(): Promise<SyncResult>;
  close(): Promise<void>;
}

/** How a headless task (the app terminated, the OS woke only the JS runtime) syncs. */
export interface HeadlessSyncOptions {
  /** Where the running app persisted its configuration (the same store it gave the manager). */
  storage: KeyValueStore;
  /**
   * Rebuilds the real engine from the persisted configuration, adding what is not persisted:
   * the database driver and the token provider. Pass no `backgroundSync` here.
   */
  createSyncSystem(config: PersistedSyncConfig): Promise<HeadlessSyncSystem>;
  /** Called with any failure (the task itself never throws). */
  onError?(error: unknown): void;
}

/**
 * Runs one headless background sync: read the persisted configuration, rebuild the engine,
 * push and pull, close the database, and call `finish(taskId)`: after success, failure,
 * a missing configuration, or at once for the OS's timeout event.
 */
export async function runHeadlessSync(
  event: BackgroundFetchEvent,
  options: HeadlessSyncOptions,
  backgroundFetch: BackgroundFetchLike,
): Promise<void> {
  try {
    // The OS is about to kill the task: report done now (the sync in flight is abandoned).
    if (event.timeout) return;
    const config = await loadPersistedConfig(options.storage);
    if (!config) return;
    const system = await options.createSyncSystem(config);
    try {
      await system.forceSync();
    } finally {
      await system.close();
    }
  } catch (error) {
    options.onError?.(error);
  } finally {
    backgroundFetch.finish(event.taskId);
  }
}
