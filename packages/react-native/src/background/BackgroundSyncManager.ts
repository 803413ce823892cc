import type { BackgroundSyncLike, KeyValueStore, SyncResult } from '@ferry/client';
import { AppState, type AppStateStatus } from 'react-native';
import { type BackgroundFetchLike, loadBackgroundFetch } from '../optionalPeers';
import type { AppStateLike } from '../signals/createPlatformSignals';
import { type HeadlessSyncOptions, runHeadlessSync } from './headlessTask';
import { clearPersistedConfig, type PersistedSyncConfig, savePersistedConfig } from './persistedConfig';

/** The part of `SyncManager` background sync drives. */
export interface BackgroundSyncTarget {
  triggerSync(): Promise<void>;
  performFullSync(): Promise<SyncResult>;
}

/** Options of {@link BackgroundSyncManager}. */
export interface BackgroundSyncOptions {
  /** Settings the headless task rebuilds the engine from; persisted to `storage` on enable. */
  config?: PersistedSyncConfig;
  /** Where `config` is persisted; the headless task must be given the same store. */
  storage?: KeyValueStore;
  /** Minutes between background fetches (the OS may wait longer). Default 15, the minimum iOS allows. */
  minimumFetchInterval?: number;
  /** Id of the one-off task scheduled when the app goes to the background. */
  taskId?: string;
  /** Called with background sync failures (they never throw out of an OS callback). */
  onError?(error: unknown): void;
  /** Defaults to react-native-background-fetch and React Native's AppState. */
  backgroundFetch?: BackgroundFetchLike;
  appState?: AppStateLike;
}

/** Id of the task scheduled on backgrounding, unless the options name another. */
export const DEFAULT_BACKGROUND_TASK_ID = 'com.ferry.sync';

/**
 * Syncs while the app is in the background, over react-native-background-fetch (the seed's
 * `BackgroundSyncManager`). The OS runs the configured handler every `minimumFetchInterval`
 * minutes or so; going to the background schedules a one-off task as well, and coming back
 * to the foreground syncs at once. Every task ends in `BackgroundFetch.finish(taskId)`,
 * after success, failure and timeout alike, or the OS stops granting background time.
 *
 * @example
 * const config = { apiBaseUrl: 'https://sync.example.com' };
 * const storage = createAsyncStorageKeyValueStore();
 * const sync = await createSyncSystem({
 *   ...config, driver, getToken,
 *   backgroundSync: (syncManager) => new BackgroundSyncManager(syncManager, { config, storage }),
 * });
 */
export class BackgroundSyncManager implements BackgroundSyncLike {
  readonly #syncManager: BackgroundSyncTarget;
  readonly #options: BackgroundSyncOptions;
  #backgroundFetch: BackgroundFetchLike | null;
  #appStateSubscription: { remove(): void } | null = null;
  #enabled = false;

  constructor(syncManager: BackgroundSyncTarget, options: BackgroundSyncOptions = {}) {
    if (options.config && !options.storage) {
      throw new Error('BackgroundSyncManager needs `storage` to persist `config` for the headless task');
    }
    this.#syncManager = syncManager;
    this.#options = options;
    this.#backgroundFetch = options.backgroundFetch ?? null;
  }

  /** True once the OS accepted the background fetch configuration. */
  get isBackgroundSyncEnabled(): boolean {
    return this.#enabled;
  }

  /**
   * Persists the configuration, configures background fetch and starts following AppState.
   * Never rejects for the OS's sake: a refused configuration goes to `onError` and leaves
   * `isBackgroundSyncEnabled` false, and the app keeps syncing in the foreground.
   */
  async enableBackgroundSync(): Promise<void> {
    const { config, storage } = this.#options;
    if (config && storage) await savePersistedConfig(storage, config);
    const backgroundFetch = this.#fetch();
    try {
      const status = await backgroundFetch.configure(
        {
          minimumFetchInterval: this.#options.minimumFetchInterval ?? 15,
          stopOnTerminate: false,
          startOnBoot: true,
          enableHeadless: true,
        },
        (taskId) => this.#runTask(taskId),
        // The OS is about to suspend the app: give the task back now. The sync in flight
        // stops with the process; its changes stay queued and go out next time.
        (taskId) => backgroundFetch.finish(taskId),
      );
      this.#enabled = status === backgroundFetch.STATUS_AVAILABLE;
    } catch (error) {
      // No background fetch (simulator, restricted by the user): the app syncs in the foreground.
      this.#enabled = false;
      this.#options.onError?.(error);
    }
    if (!this.#appStateSubscription) {
      this.#appStateSubscription = (this.#options.appState ?? AppState).addEventListener('change', (state) =>
        this.#onAppState(state),
      );
    }
  }

  /** Stops background fetch and AppState following; the headless task will do nothing. */
  async disable(): Promise<void> {
    this.#appStateSubscription?.remove();
    this.#appStateSubscription = null;
    if (this.#options.storage) await clearPersistedConfig(this.#options.storage);
    if (this.#enabled) await this.#fetch().stop();
    this.#enabled = false;
  }

  async #runTask(taskId: string): Promise<void> {
    try {
      // Not triggerSync: that waits for the foreground, and here the app is in the background.
      await this.#syncManager.performFullSync();
    } catch (error) {
      this.#options.onError?.(error);
    } finally {
      this.#fetch().finish(taskId);
    }
  }

  #onAppState(state: AppStateStatus): void {
    if (state === 'active') {
      void this.#syncManager.triggerSync();
    } else if (state === 'background') {
      this.#fetch()
        .scheduleTask({
          taskId: this.#options.taskId ?? DEFAULT_BACKGROUND_TASK_ID,
          delay: 0,
          periodic: false,
          forceAlarmManager: true,
          stopOnTerminate: false,
          enableHeadless: true,
        })
        .catch((error: unknown) => this.#options.onError?.(error));
    }
  }

  #fetch(): BackgroundFetchLike {
    this.#backgroundFetch ??= loadBackgroundFetch();
    return this.#backgroundFetch;
  }

  /**
   * Registers the task the OS runs when the app is terminated (Android headless JS). Call it
   * at the top level of `index.js`, next to `AppRegistry.registerComponent`.
   *
   * @example
   * BackgroundSyncManager.registerHeadlessTask({
   *   storage: createAsyncStorageKeyValueStore(),
   *   createSyncSystem: (config) =>
   *     createSyncSystem({ ...config, driver: openOpSqliteDriver({ name: 'app.db' }), getToken }),
   * });
   */
  static registerHeadlessTask(options: HeadlessSyncOptions, backgroundFetch?: BackgroundFetchLike): void {
    const fetch = backgroundFetch ?? loadBackgroundFetch();
    fetch.registerHeadlessTask((event) => runHeadlessSync(event, options, fetch));
  }
}
