import type { Collection, Doc, FindOptions, RecordData, SyncSystem } from '@ferry/client';
import { LiveQuery } from '@ferry/client/engine';
import { useMemo, useSyncExternalStore } from 'react';
import type { AsyncSnapshot } from './createAsyncStore.ts';
import { useOptionalSyncSystem } from './SyncProvider.tsx';

/** An external store (for `useSyncExternalStore`) over a live query, or over the error that building it raised. */
function createLiveStore<R>(query: LiveQuery<R> | Error, initial: R) {
  let snapshot: AsyncSnapshot<R> =
    query instanceof Error
      ? { data: initial, loading: false, error: query }
      : { data: initial, loading: true, error: null };
  return {
    subscribe(onStoreChange: () => void): () => void {
      if (query instanceof Error) return () => {};
      // The live query runs once now, then only after commits that touch its types, and
      // calls back only when the result changed: an unchanged result never re-renders.
      return query.subscribe(
        (data) => {
          snapshot = { data, loading: false, error: null };
          onStoreChange();
        },
        (error) => {
          snapshot = { ...snapshot, loading: false, error };
          onStoreChange();
        },
      );
    },
    getSnapshot: () => snapshot,
  };
}

/**
 * A live query. Pass a {@link LiveQuery} (`todos.query({...})`, `todos.countQuery({...})`,
 * `sync.localStore.sqlQuery(sql, params)`), or a collection (a name from the
 * {@link SyncProvider}'s system, or a `Collection`) with find options. It re-renders when a
 * committed write (the app's or a sync's) changed the result; writes to other types do not
 * even re-run it. Queries are keyed by value, so a fresh options object or query on every
 * render is fine. A bad query (unknown field, wrong value type) is returned as `error`.
 *
 * @example
 * const { data: open } = useQuery(todos.query({ where: { completed: false }, orderBy: ['dueAt', 'title'] }));
 * const { data: openCount } = useQuery(todos.countQuery({ completed: false }));
 * const { data: todos, loading } = useQuery<Todo>('todos', { where: { completed: false }, orderBy: 'title' });
 */
export function useQuery<R>(query: LiveQuery<R>): AsyncSnapshot<R | undefined>;
export function useQuery<T extends RecordData = RecordData>(
  collection: string | Collection<T>,
  options?: FindOptions<T> | FindOptions,
  sync?: SyncSystem,
): AsyncSnapshot<Array<Doc<T>>>;
export function useQuery(
  source: LiveQuery<unknown> | string | Collection,
  options: FindOptions = {},
  sync?: SyncSystem,
): AsyncSnapshot<unknown> {
  const fromContext = useOptionalSyncSystem();
  const system = sync ?? fromContext;
  const live = source instanceof LiveQuery;
  const target = live ? undefined : typeof source === 'string' ? system?.collection(source) : source;
  if (!live && !target) {
    throw new Error(`useQuery('${String(source)}') needs a sync system: use <SyncProvider sync={...}>`);
  }
  // Queries usually arrive as a fresh object on every render: key them by value (and by the
  // store they read, so a screen that switches sync systems does not keep the old one's query).
  const key = live ? source.key : JSON.stringify(options);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for `source` / `options`
  const store = useMemo(() => {
    if (live) return createLiveStore<unknown>(source, undefined);
    let query: LiveQuery<unknown> | Error;
    try {
      query = (target as Collection).query(options) as unknown as LiveQuery<unknown>;
    } catch (error) {
      query = error instanceof Error ? error : new Error(String(error));
    }
    return createLiveStore<unknown>(query, []);
  }, [live ? source.source : target, key]);
  return useSyncExternalStore(store.subscribe, store.getSnapshot);
}
