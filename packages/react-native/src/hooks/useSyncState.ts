/**
 * Hooks over the manager's synchronous state: each reads a snapshot the engine keeps and
 * re-renders when the engine notifies, through `useSyncExternalStore`.
 */
import type { SyncManager, SyncProgressState, SyncState } from '@ferry/client';
import { useCallback, useSyncExternalStore } from 'react';
import { useManager } from './SyncProvider.tsx';

/**
 * The engine's state (`pendingChanges`, `syncInProgress`, `lastSyncTimestamp`, `syncErrors`,
 * `isOnline`), re-rendering on every change.
 *
 * @example
 * const { syncInProgress, pendingChanges } = useSyncState();
 */
export function useSyncState(syncManager?: SyncManager): SyncState {
  const manager = useManager(syncManager, 'useSyncState');
  const subscribe = useCallback((onChange: () => void) => manager.subscribe(onChange), [manager]);
  return useSyncExternalStore(subscribe, () => manager.getState());
}

/**
 * The progress of the running sync (`phase`, `totalItems`, `processedItems`,
 * `currentItem`, `error`), as `<SyncProgress>` shows it.
 *
 * @example
 * const { phase, processedItems, totalItems } = useSyncProgress();
 */
export function useSyncProgress(syncManager?: SyncManager): SyncProgressState {
  const manager = useManager(syncManager, 'useSyncProgress');
  const subscribe = useCallback((onChange: () => void) => manager.subscribeToProgress(onChange), [manager]);
  return useSyncExternalStore(subscribe, () => manager.getProgress());
}

/**
 * How many local changes wait to be pushed. Re-renders only when the number changes, not on
 * every other state change.
 *
 * @example
 * const pending = usePendingChanges();
 * return pending > 0 ? <Text>{pending} changes not yet synced</Text> : null;
 */
export function usePendingChanges(syncManager?: SyncManager): number {
  const manager = useManager(syncManager, 'usePendingChanges');
  const subscribe = useCallback((onChange: () => void) => manager.subscribe(onChange), [manager]);
  return useSyncExternalStore(subscribe, () => manager.getState().pendingChanges);
}
