import type { KeyValueStore, SyncResult } from '@ferry/client';
import type { BackgroundFetchEvent, BackgroundFetchLike } from '../optionalPeers.ts';
import { loadPersistedConfig, type PersistedSyncConfig } from './persistedConfig.ts';

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
 * Ferry's work in a headless task: read the persisted configuration, rebuild the engine,
 * push and pull, close the database. Does nothing when background sync was never enabled.
 * It never rejects (failures go to `onError`) and does not call `finish(taskId)`: an app
 * that registers its own headless task calls it there, beside its own work, then finishes
 * the task once.
 *
 * @example
 * BackgroundFetch.registerHeadlessTask(async ({ taskId, timeout }) => {
 *   if (!timeout) await Promise.all([runBackgroundSyncHeadless(headlessOptions), refreshMyFeed()]);
 *   BackgroundFetch.finish(taskId);
 * });
 */
export async function runBackgroundSyncHeadless(options: HeadlessSyncOptions): Promise<void> {
  try {
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
  }
}

/**
 * Runs one headless task as Ferry's own (what `BackgroundSyncManager.registerHeadlessTask`
 * registers): {@link runBackgroundSyncHeadless}, then `finish(taskId)`: after success,
 * failure, a missing configuration, or at once for the OS's timeout event.
 */
export async function runHeadlessSync(
  event: BackgroundFetchEvent,
  options: HeadlessSyncOptions,
  backgroundFetch: BackgroundFetchLike,
): Promise<void> {
  try {
    // On the timeout event the OS is about to kill the task: report done now.
    if (!event.timeout) await runBackgroundSyncHeadless(options);
  } finally {
    backgroundFetch.finish(event.taskId);
  }
}
