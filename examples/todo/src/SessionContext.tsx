/**
 * Gives the open {@link Session} to every screen of the signed-in app, and its sync system to
 * `@ferry/react-native`'s hooks (`<SyncProvider>`).
 */
import { SyncProvider } from '@ferry/react-native';
import { createContext, type ReactNode, useContext } from 'react';
import type { Session } from './session';

const SessionContext = createContext<Session | null>(null);

/** Provides `session` to its children. */
export function SessionProvider({ session, children }: { session: Session; children: ReactNode }) {
  return (
    <SessionContext.Provider value={session}>
      <SyncProvider sync={session.sync}>{children}</SyncProvider>
    </SessionContext.Provider>
  );
}

/** The open session; only valid under {@link SessionProvider}. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession needs a SessionProvider above it (render the app after sign-in)');
  return session;
}
