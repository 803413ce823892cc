import type { BackgroundSyncLike, KeyValueStore, SyncResult } from '@ferry/client';
import { AppState, type AppStateStatus } from 'react-native';
import { BackgroundTaskError } from '../errors.ts';
import { type BackgroundFetchLike, loadBackgroundFetch } from '../optionalPeers.ts';
import type { AppStateLike } from '../signals/createPlatformSignals.ts';
import { type HeadlessSyncOptions, runHeadlessSync } from './headlessTask.ts';
import { clearPersistedConfig, type PersistedSyncConfig, savePersistedConfig } from './persistedConfig.ts';

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
  /**
   * Id of the one-off task scheduled when the app goes to the background. On iOS it must be
   * listed in Info.plist's `BGTaskSchedulerPermittedIdentifiers`, or the OS refuses it (the
   * refusal reaches `onError` as a {@link BackgroundTaskError}). Default {@link DEFAULT_BACKGROUND_TASK_ID}.
   */
  taskId?: string;
  /**
   * Whether Ferry calls react-native-background-fetch's `configure` (default true). The
   * package keeps one `configure` handler per app: an app with background work of its own
   * passes false, configures background fetch itself, and calls {@link BackgroundSyncManager.runBackgroundSync}
   * from its handler. Ferry then still persists `config`, follows AppState and schedules its task.
   */
  configure?: boolean;
  /** Called with background sync failures (they never throw out of an OS callback). */
  onError?(error: unknown): void;
  /** Defaults to react-native-background-fetch and React Native's AppState. */
  backgroundFetch?: BackgroundFetchLike;
  appState?: AppStateLike;
}

/** Id of the task scheduled on backgrounding, unless the options name another. */
export const DEFAULT_BACKGROUND_TASK_ID = 'com.ferry.sync';

/**
 * Syncs while the app is in the background, over react-native-background-fetch. The OS runs the configured handler every `minimumFetchInterval`
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
  #taskScheduled = false;

  constructor(syncManager: BackgroundSyncTarget, options: BackgroundSyncOptions = {}) {
    if (options.config && !options.storage) {
      throw new Error('BackgroundSyncManager needs `storage` to persist `config` for the headless task');
    }
    if (options.taskId !== undefined && options.taskId.trim() === '') {
      throw new Error('BackgroundSyncManager `taskId` is empty: pass the id listed in Info.plist, or leave it out');
    }
    this.#syncManager = syncManager;
    this.#options = options;
    this.#backgroundFetch = options.backgroundFetch ?? null;
  }

  /** The id of the one-off task Ferry schedules on backgrounding. */
  get taskId(): string {
    return this.#options.taskId ?? DEFAULT_BACKGROUND_TASK_ID;
  }

  /** True once the OS accepted the background fetch configuration (false while the app owns `configure`). */
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
    if (this.#options.configure !== false) await this.#configure();
    if (!this.#appStateSubscription) {
      this.#appStateSubscription = (this.#options.appState ?? AppState).addEventListener('change', (state) =>
        this.#onAppState(state),
      );
    }
  }

  /**
   * Ferry's work for one background task: a full push-then-pull sync. It never rejects
   * (failures go to `onError`) and does not call `finish(taskId)`: an app that owns
   * background fetch (`configure: false`) calls it from its own handler, runs its own work
   * beside it, then finishes the task once.
   *
   * @example
   * await BackgroundFetch.configure({ minimumFetchInterval: 15 }, async (taskId) => {
   *   await Promise.all([ferry.runBackgroundSync(), refreshMyFeed()]);
   *   BackgroundFetch.finish(taskId);
   * }, (taskId) => BackgroundFetch.finish(taskId));
   */
  async runBackgroundSync(): Promise<void> {
    try {
      // Not triggerSync: that waits for the foreground, and here the app is in the background.
      await this.#syncManager.performFullSync();
    } catch (error) {
      this.#options.onError?.(error);
    }
  }

  async #configure(): Promise<void> {
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
  }

  /** Stops background fetch and AppState following; the headless task will do nothing. */
  async disable(): Promise<void> {
    this.#appStateSubscription?.remove();
    this.#appStateSubscription = null;
    if (this.#options.storage) await clearPersistedConfig(this.#options.storage);
    if (this.#enabled) await this.#fetch().stop();
    // The app owns the rest of background fetch: cancel only Ferry's own task.
    else if (this.#taskScheduled) await this.#fetch().stop(this.taskId);
    this.#taskScheduled = false;
    this.#enabled = false;
  }

  async #runTask(taskId: string): Promise<void> {
    await this.runBackgroundSync();
    this.#fetch().finish(taskId);
  }

  #onAppState(state: AppStateStatus): void {
    if (state === 'active') {
      void this.#syncManager.triggerSync();
    } else if (state === 'background') {
      const taskId = this.taskId;
      this.#fetch()
        .scheduleTask({
          taskId,
          delay: 0,
          periodic: false,
          forceAlarmManager: true,
          stopOnTerminate: false,
          enableHeadless: true,
        })
        .then(
          () => {
            this.#taskScheduled = true;
          },
          (error: unknown) => this.#options.onError?.(new BackgroundTaskError(taskId, error)),
        );
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
