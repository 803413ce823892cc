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
} from './background/BackgroundSyncManager.ts';
export {
  type HeadlessSyncOptions,
  type HeadlessSyncSystem,
  runBackgroundSyncHeadless,
  runHeadlessSync,
} from './background/headlessTask.ts';
export {
  clearPersistedConfig,
  loadPersistedConfig,
  type PersistedSyncConfig,
  savePersistedConfig,
} from './background/persistedConfig.ts';
export { SyncDiagnostics, type SyncDiagnosticsProps } from './components/SyncDiagnostics.tsx';
export {
  SYNC_PROGRESS_COLORS,
  SyncProgress,
  type SyncProgressProps,
  syncStatusText,
} from './components/SyncProgress.tsx';
export { BackgroundTaskError } from './errors.ts';
export type { AsyncSnapshot } from './hooks/createAsyncStore.ts';
export { SyncProvider, type SyncProviderProps, useSyncSystem } from './hooks/SyncProvider.tsx';
export { type UseConflictsResult, useConflicts } from './hooks/useConflicts.ts';
export { type UseDeadLettersResult, useDeadLetters } from './hooks/useDeadLetters.ts';
export { useQuery } from './hooks/useQuery.ts';
export { type UseSpacesResult, useSpaces } from './hooks/useSpaces.ts';
export { usePendingChanges, useSyncProgress, useSyncState } from './hooks/useSyncState.ts';
export type {
  BackgroundFetchCommonConfig,
  BackgroundFetchConfig,
  BackgroundFetchEvent,
  BackgroundFetchLike,
  BackgroundFetchTaskConfig,
  NetInfoLike,
  NetInfoStateLike,
} from './optionalPeers.ts';
export {
  type AppStateLike,
  connectAppState,
  connectNetInfo,
  createPlatformSignals,
  isOnline,
  type PlatformSignals,
} from './signals/createPlatformSignals.ts';
