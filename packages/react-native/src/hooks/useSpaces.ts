import type { SpaceInfo, SyncSystem } from '@ferry/client';
import { useMemo, useSyncExternalStore } from 'react';
import { createAsyncStore } from './createAsyncStore.ts';
import { useSystem } from './SyncProvider.tsx';

/** The user's spaces as {@link useSpaces} gives them, with the engine's space operations. */
export interface UseSpacesResult {
  /** The user's shared spaces (`pending` while a creation on this device is not pushed yet). */
  spaces: SpaceInfo[];
  loading: boolean;
  error: Error | null;
  /** `sync.spaces`: create, addMember, removeMember, leave, members (each queued like a write). */
  actions: SyncSystem['spaces'];
}

const NO_SPACES: SpaceInfo[] = [];

/**
 * Lists the user's shared spaces and re-renders when the list changes: a sync brings a grant or
 * a revocation, or this device creates or leaves a space.
 *
 * @example
 * const { spaces, actions } = useSpaces();
 * <Button title="New list" onPress={() => actions.create({ name: 'Groceries' })} />
 * spaces.map((space) => <Text key={space.id}>{space.name} ({space.role})</Text>);
 */
export function useSpaces(sync?: SyncSystem): UseSpacesResult {
  const system = useSystem(sync, 'useSpaces');
  const store = useMemo(
    () =>
      createAsyncStore(
        NO_SPACES,
        () => system.spaces.list(),
        (onChange) => system.spaces.subscribe(() => onChange()),
      ),
    [system],
  );
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot);
  return { spaces: snapshot.data, loading: snapshot.loading, error: snapshot.error, actions: system.spaces };
}
