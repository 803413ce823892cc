import type { ConflictDecision, StoredConflict, SyncSystem } from '@ferry/client';
import { useCallback, useMemo, useSyncExternalStore } from 'react';
import { createAsyncStore } from './createAsyncStore.ts';
import { useSystem } from './SyncProvider.tsx';

/** The conflict inbox as {@link useConflicts} gives it. */
export interface UseConflictsResult {
  /** Conflicts waiting for a decision (the `manual` strategy parks them here). */
  conflicts: StoredConflict[];
  loading: boolean;
  error: Error | null;
  /** Decides one conflict; the decision becomes a change and syncs like any other write. */
  resolve(id: string, decision: ConflictDecision): Promise<void>;
}

const NO_CONFLICTS: StoredConflict[] = [];

/**
 * Lists the conflicts waiting for the user and resolves them. Re-renders when the inbox
 * changes: a sync parks a new conflict, or a decision (from here or elsewhere) removes one.
 *
 * @example
 * const { conflicts, resolve } = useConflicts();
 * conflicts.map((c) => <Button key={c.id} title="Keep mine" onPress={() => resolve(c.id, { winner: 'local' })} />);
 */
export function useConflicts(sync?: SyncSystem): UseConflictsResult {
  const system = useSystem(sync, 'useConflicts');
  const store = useMemo(
    () =>
      createAsyncStore(
        NO_CONFLICTS,
        () => system.listConflicts(),
        (onChange) => system.subscribeToConflicts(onChange),
      ),
    [system],
  );
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const resolve = useCallback(
    (id: string, decision: ConflictDecision) => system.resolveConflict(id, decision),
    [system],
  );
  return { conflicts: snapshot.data, loading: snapshot.loading, error: snapshot.error, resolve };
}
