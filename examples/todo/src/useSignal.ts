/** Re-renders when a `Signal` (online, forced offline) changes. */
import type { Signal } from '@ferry/client';
import { useSyncExternalStore } from 'react';

/** The current value of `signal`, kept up to date. */
export function useSignal<T>(signal: Signal<T>): T {
  return useSyncExternalStore(
    (onChange) => signal.subscribe(onChange),
    () => signal.get(),
  );
}
