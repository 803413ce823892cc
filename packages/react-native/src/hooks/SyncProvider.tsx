import type { SyncManager, SyncSystem } from '@ferry/client';
import { createContext, type ReactNode, useContext } from 'react';

const SyncContext = createContext<SyncSystem | null>(null);

/** Props of {@link SyncProvider}. */
export interface SyncProviderProps {
  /** The engine from `createSyncSystem`. */
  sync: SyncSystem;
  children?: ReactNode;
}

/**
 * Makes a sync system available to the hooks below it.
 *
 * @example
 * const sync = await createSyncSystem({ driver, apiBaseUrl, ...createPlatformSignals() });
 * root.render(<SyncProvider sync={sync}><App /></SyncProvider>);
 */
export function SyncProvider({ sync, children }: SyncProviderProps) {
  return <SyncContext.Provider value={sync}>{children}</SyncContext.Provider>;
}

/** The sync system of the nearest {@link SyncProvider}; throws a clear error without one. */
export function useSyncSystem(): SyncSystem {
  const sync = useContext(SyncContext);
  if (!sync) throw new Error('No sync system set, use <SyncProvider sync={...}> to set one');
  return sync;
}

/** The nearest provider's sync system, or null (for hooks that also take one explicitly). */
export function useOptionalSyncSystem(): SyncSystem | null {
  return useContext(SyncContext);
}

/** The sync system passed in, else the provider's; throws a clear error with neither. */
export function useSystem(explicit: SyncSystem | undefined, hook: string): SyncSystem {
  const sync = useContext(SyncContext);
  const system = explicit ?? sync;
  if (!system) throw new Error(`${hook} needs a sync system: pass one, or use <SyncProvider sync={...}> above it`);
  return system;
}

/** The manager passed in, else the provider's; throws a clear error with neither. */
export function useManager(explicit: SyncManager | undefined, hook: string): SyncManager {
  const sync = useContext(SyncContext);
  const manager = explicit ?? sync?.syncManager;
  if (!manager) throw new Error(`${hook} needs a sync manager: pass one, or use <SyncProvider sync={...}> above it`);
  return manager;
}
