import type { DeadLetter, SyncSystem } from '@ferry/client';
import { useCallback, useMemo, useSyncExternalStore } from 'react';
import { createAsyncStore } from './createAsyncStore.ts';
import { useSystem } from './SyncProvider.tsx';

/** The dead-letter list as {@link useDeadLetters} gives it. */
export interface UseDeadLettersResult {
  /** Changes the server rejected for good; they no longer block the queue. */
  deadLetters: DeadLetter[];
  loading: boolean;
  error: Error | null;
  /** Queues the change again; false when it is no longer a dead letter. */
  retry(changeId: string): Promise<boolean>;
  /** Forgets the change; false when it is no longer a dead letter. */
  discard(changeId: string): Promise<boolean>;
}

const NONE: DeadLetter[] = [];

/**
 * Lists the changes that can never be applied, so the app can show them and let the user
 * retry (after fixing the data) or discard each. Re-renders when the list changes.
 *
 * @example
 * const { deadLetters, discard } = useDeadLetters();
 */
export function useDeadLetters(sync?: SyncSystem): UseDeadLettersResult {
  const system = useSystem(sync, 'useDeadLetters');
  const store = useMemo(
    () =>
      createAsyncStore(
        NONE,
        () => system.listDeadLetters(),
        (onChange) => system.subscribeToDeadLetters(() => onChange()),
      ),
    [system],
  );
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const retry = useCallback((changeId: string) => system.retryDeadLetter(changeId), [system]);
  const discard = useCallback((changeId: string) => system.discardDeadLetter(changeId), [system]);
  return { deadLetters: snapshot.data, loading: snapshot.loading, error: snapshot.error, retry, discard };
}
