/**
 * @ferry/react-native: Ferry's engine plugged into React Native. NetInfo and AppState feed
 * the engine's signals, background fetch syncs while the app is away, and hooks and
 * `<SyncProgress>` show the engine in the UI. SQLite drivers and the AsyncStorage store are
 * subpaths (`@ferry/react-native/op-sqlite`, `/expo-sqlite`, `/async-storage`), so an app
 * loads only the one it uses. The whole engine is re-exported.
 */
export * from '@ferry/client';
export {
  BackgroundSyncManager,
  type BackgroundSyncOptions,
  type BackgroundSyncTarget,
  DEFAULT_BACKGROUND_TASK_ID,
} from './background/BackgroundSyncManager';
export { type HeadlessSyncOptions, type HeadlessSyncSystem, runHeadlessSync } from './background/headlessTask';
export {
  clearPersistedConfig,
  loadPersistedConfig,
  type PersistedSyncConfig,
  savePersistedConfig,
} from './background/persistedConfig';
export {
  SYNC_PROGRESS_COLORS,
  SyncProgress,
  type SyncProgressProps,
  syncStatusText,
} from './components/SyncProgress';
export type { AsyncSnapshot } from './hooks/createAsyncStore';
export { SyncProvider, type SyncProviderProps, useSyncSystem } from './hooks/SyncProvider';
export { type UseConflictsResult, useConflicts } from './hooks/useConflicts';
export { type UseDeadLettersResult, useDeadLetters } from './hooks/useDeadLetters';
export { useQuery } from './hooks/useQuery';
export { usePendingChanges, useSyncProgress, useSyncState } from './hooks/useSyncState';
export type { BackgroundFetchEvent, BackgroundFetchLike, NetInfoLike, NetInfoStateLike } from './optionalPeers';
export {
  type AppStateLike,
  connectAppState,
  connectNetInfo,
  createPlatformSignals,
  isOnline,
  type PlatformSignals,
} from './signals/createPlatformSignals';
