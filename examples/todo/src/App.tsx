/**
 * The Ferry Todo demo. Signed out: pick a demo user. Signed in: the local database of this
 * user on this tab, syncing with the server whenever it is online.
 */
import { useCallback, useEffect, useState } from 'react';
import { ActivityIndicator, StyleSheet, Text, View } from 'react-native';
import { SessionProvider } from './SessionContext';
import { SignInScreen } from './SignInScreen';
import { type Credentials, forgetCredentials, openSession, type Session, savedCredentials, signIn } from './session';
import { TodoApp } from './TodoApp';
import { colors, shared } from './theme';

type Phase = { kind: 'signed-out'; error?: string } | { kind: 'opening' } | { kind: 'open'; session: Session };

/** The root component registered with AppRegistry. */
export function App() {
  const [phase, setPhase] = useState<Phase>(() => (savedCredentials() ? { kind: 'opening' } : { kind: 'signed-out' }));

  const open = useCallback(async (getCredentials: () => Promise<Credentials>) => {
    setPhase({ kind: 'opening' });
    try {
      const session = await openSession(await getCredentials());
      setPhase({ kind: 'open', session });
    } catch (error) {
      forgetCredentials();
      setPhase({ kind: 'signed-out', error: (error as Error).message });
    }
  }, []);

  useEffect(() => {
    // A reload: reopen the previous session from this tab's credentials, no network needed.
    const credentials = savedCredentials();
    if (credentials) void open(async () => credentials);
  }, [open]);

  const session = phase.kind === 'open' ? phase.session : null;
  useEffect(() => {
    if (!session) return;
    return () => void session.close();
  }, [session]);

  const signOut = useCallback(() => {
    forgetCredentials();
    setPhase({ kind: 'signed-out' });
  }, []);

  return (
    <View style={styles.screen}>
      <View style={styles.column}>
        <Text style={styles.brand}>Ferry Todo</Text>
        {phase.kind === 'signed-out' ? (
          <SignInScreen error={phase.error} onSignIn={(userId) => void open(() => signIn(userId))} />
        ) : phase.kind === 'opening' ? (
          <View style={shared.card}>
            <ActivityIndicator color={colors.accent} />
            <Text style={shared.label}>Opening the local database…</Text>
          </View>
        ) : (
          <SessionProvider session={phase.session}>
            <TodoApp onSignOut={signOut} />
          </SessionProvider>
        )}
      </View>
    </View>
  );
}

const styles = StyleSheet.create({
  screen: { flex: 1, backgroundColor: colors.background, alignItems: 'center' },
  column: { width: '100%', maxWidth: 720, padding: 16 },
  brand: { fontSize: 24, fontWeight: '700', color: colors.text, marginBottom: 12 },
});
