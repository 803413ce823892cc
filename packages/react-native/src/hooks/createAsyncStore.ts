/** What a hook over asynchronous engine data renders from. */
export interface AsyncSnapshot<T> {
  data: T;
  /** True until the first load finished. */
  loading: boolean;
  /** The last load's failure; cleared by the next successful load. */
  error: Error | null;
}

/** An external store (for `useSyncExternalStore`) over data the engine loads asynchronously. */
export interface AsyncStore<T> {
  subscribe(onStoreChange: () => void): () => void;
  getSnapshot(): AsyncSnapshot<T>;
  /** Loads again now (after a local action the watch may not report). */
  refresh(): void;
}

/**
 * Keeps `load()`'s latest result as a stable snapshot. Watching starts with the first
 * subscriber and stops with the last; every change `watch` reports loads again, and a slow
 * load that finishes after a newer one is dropped, so the snapshot never goes back in time.
 */
export function createAsyncStore<T>(
  initial: T,
  load: () => Promise<T>,
  watch: (onChange: () => void) => () => void,
): AsyncStore<T> {
  let snapshot: AsyncSnapshot<T> = { data: initial, loading: true, error: null };
  const listeners = new Set<() => void>();
  let stopWatching: (() => void) | null = null;
  let generation = 0;

  const publish = (next: AsyncSnapshot<T>) => {
    snapshot = next;
    for (const listener of [...listeners]) listener();
  };
  const refresh = () => {
    const mine = ++generation;
    load().then(
      (data) => {
        if (mine === generation) publish({ data, loading: false, error: null });
      },
      (cause: unknown) => {
        if (mine !== generation) return;
        const error = cause instanceof Error ? cause : new Error(String(cause));
        publish({ ...snapshot, loading: false, error });
      },
    );
  };

  return {
    subscribe(onStoreChange) {
      listeners.add(onStoreChange);
      if (!stopWatching) {
        stopWatching = watch(refresh);
        refresh();
      }
      return () => {
        listeners.delete(onStoreChange);
        if (listeners.size === 0 && stopWatching) {
          stopWatching();
          stopWatching = null;
          generation++; // results of loads still in flight are no longer wanted
        }
      };
    },
    getSnapshot: () => snapshot,
    refresh,
  };
}
