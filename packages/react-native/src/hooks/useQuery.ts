import type { Collection, Doc, FindOptions, RecordData, SyncSystem } from '@ferry/client';
import { useMemo, useSyncExternalStore } from 'react';
import { type AsyncSnapshot, createAsyncStore } from './createAsyncStore';
import { useOptionalSyncSystem } from './SyncProvider';

/**
 * A live query: the records of one entity type matching `options`, re-rendering whenever a
 * committed write touches that type, whether the app wrote it or a sync brought it in.
 * Writes to other types do not re-run it. `collection` is a name (from the
 * {@link SyncProvider}'s system) or a `Collection`.
 *
 * @example
 * const { data: todos, loading } = useQuery<Todo>('todos', { where: { completed: false }, orderBy: 'title' });
 */
export function useQuery<T extends RecordData = RecordData>(
  collection: string | Collection<T>,
  options: FindOptions = {},
  sync?: SyncSystem,
): AsyncSnapshot<Array<Doc<T>>> {
  const fromContext = useOptionalSyncSystem();
  const system = sync ?? fromContext;
  const target = typeof collection === 'string' ? system?.collection<T>(collection) : collection;
  if (!target) throw new Error(`useQuery('${String(collection)}') needs a sync system: use <SyncProvider sync={...}>`);
  // Options usually arrive as a fresh object literal on every render: key them by value.
  const key = JSON.stringify(options);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for `options`
  const store = useMemo(
    () =>
      createAsyncStore<Array<Doc<T>>>(
        [],
        () => target.find(options),
        (onChange) => target.subscribe(onChange),
      ),
    [target, key],
  );
  return useSyncExternalStore(store.subscribe, store.getSnapshot);
}
