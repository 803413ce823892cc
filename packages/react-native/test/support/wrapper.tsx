import type { SyncSystem } from '@ferry/client';
import type { ReactNode } from 'react';
import { SyncProvider } from '../../src/hooks/SyncProvider.tsx';

/** A `wrapper` for render/renderHook that provides `sync` to the hooks. */
export function providing(sync: SyncSystem) {
  // biome-ignore lint/correctness/noComponentHookFactories: made once per rendered tree, so its identity is stable for that tree
  return function Wrapper({ children }: { children: ReactNode }) {
    return <SyncProvider sync={sync}>{children}</SyncProvider>;
  };
}
