import type { SyncDiagnostics as Diagnostics, SyncSystem } from '@ferry/client';
import { useCallback, useEffect, useState } from 'react';
import { Pressable, ScrollView, type StyleProp, StyleSheet, Text, View, type ViewStyle } from 'react-native';

/** Props of {@link SyncDiagnostics}. */
export interface SyncDiagnosticsProps {
  /** The sync system to show (what `createSyncSystem` returned). */
  sync: Pick<
    SyncSystem,
    'diagnostics' | 'sync' | 'retryDeadLetter' | 'discardDeadLetter' | 'subscribeToDeadLetters' | 'syncManager'
  >;
  style?: StyleProp<ViewStyle>;
}

const OPERATIONS = ['CREATE', 'UPDATE', 'DELETE'] as const;

function outboxLine(counts: Diagnostics['outbox']['byType'][string]): string {
  return OPERATIONS.flatMap((operation) =>
    counts[operation] ? [`${counts[operation]} ${operation.toLowerCase()}`] : [],
  ).join(', ');
}

function Button({ label, onPress, testID }: { label: string; onPress: () => void; testID?: string }) {
  return (
    <Pressable accessibilityRole="button" onPress={onPress} style={styles.button} testID={testID}>
      <Text style={styles.buttonText}>{label}</Text>
    </Pressable>
  );
}

/**
 * A developer's view of the engine on the device: state, the outbox by entity type, parked
 * conflicts, dead letters (with retry and discard), the last errors and versions, and a
 * "Sync now" button. It reads `sync.diagnostics()`, so it shows counts, ids and codes, never
 * record contents: safe to leave in an internal build.
 *
 * @example
 * <SyncDiagnostics sync={sync} />
 */
export function SyncDiagnostics({ sync, style }: SyncDiagnosticsProps) {
  const [report, setReport] = useState<Diagnostics | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  const refresh = useCallback(() => {
    sync.diagnostics().then(setReport, (error: unknown) => setFailure((error as Error).message));
  }, [sync]);

  useEffect(() => {
    refresh();
    // Every state change (a cycle starting or ending, a write) and every dead-letter change.
    const stopState = sync.syncManager.subscribe(() => refresh());
    const stopDead = sync.subscribeToDeadLetters(() => refresh());
    return () => {
      stopState();
      stopDead();
    };
  }, [sync, refresh]);

  const syncNow = () => {
    setFailure(null);
    sync.sync().then(refresh, (error: unknown) => {
      setFailure((error as Error).message);
      refresh();
    });
  };

  if (!report) return <Text style={styles.muted}>Loading diagnostics…</Text>;
  const types = Object.entries(report.outbox.byType);
  return (
    <ScrollView style={[styles.container, style]} testID="sync-diagnostics">
      <View style={styles.row}>
        <Text style={styles.title}>
          {report.state.syncInProgress ? 'Syncing' : report.state.isOnline ? 'Online' : 'Offline'}
          {report.state.paused ? ` · paused (${report.state.paused})` : ''}
        </Text>
        <Button label="Sync now" onPress={syncNow} />
      </View>
      {failure ? <Text style={styles.error}>Last sync failed: {failure}</Text> : null}

      <Text style={styles.heading}>Outbox ({report.outbox.total})</Text>
      {types.length === 0 ? <Text style={styles.muted}>Nothing waiting</Text> : null}
      {types.map(([type, counts]) => (
        <Text key={type}>
          {type}: {outboxLine(counts)}
        </Text>
      ))}

      <Text style={styles.heading}>Conflicts ({report.conflicts.parked})</Text>
      {Object.entries(report.conflicts.byType).map(([type, count]) => (
        <Text key={type}>
          {type}: {count} waiting for a decision
        </Text>
      ))}

      <Text style={styles.heading}>Dead letters ({report.deadLetters.length})</Text>
      {report.deadLetters.map((letter) => (
        <View key={letter.changeId} style={styles.card}>
          <Text style={styles.error}>
            {letter.code} · {letter.entityType} {letter.operation.toLowerCase()}
          </Text>
          <Text style={styles.muted}>{letter.message}</Text>
          <View style={styles.row}>
            <Button label="Retry" onPress={() => void sync.retryDeadLetter(letter.changeId).then(refresh)} />
            <Button label="Discard" onPress={() => void sync.discardDeadLetter(letter.changeId).then(refresh)} />
          </View>
        </View>
      ))}

      <Text style={styles.heading}>Last errors ({report.lastErrors.length})</Text>
      {report.lastErrors.map((error) => (
        <Text key={`${error.at}-${error.code}-${error.changeId ?? ''}-${error.retryCount}`} style={styles.muted}>
          {error.code}: {error.message}
        </Text>
      ))}

      <Text style={styles.heading}>Device</Text>
      <Text style={styles.muted}>
        client {report.clientId} · cursor {report.cursors.private} · {report.driver} · SDK {report.versions.sdk} ·
        protocol {report.versions.protocol}
        {report.versions.app ? ` · app ${report.versions.app}` : ''}
      </Text>
    </ScrollView>
  );
}

const styles = StyleSheet.create({
  container: { padding: 12 },
  row: { flexDirection: 'row', alignItems: 'center', justifyContent: 'space-between', gap: 8 },
  title: { fontSize: 16, fontWeight: '600' },
  heading: { marginTop: 14, marginBottom: 4, fontWeight: '600' },
  muted: { color: '#667085' },
  error: { color: '#C4320A' },
  card: { borderWidth: 1, borderColor: '#E4E7EC', borderRadius: 6, padding: 8, marginBottom: 6 },
  button: { backgroundColor: '#2F6FED', paddingHorizontal: 10, paddingVertical: 6, borderRadius: 4 },
  buttonText: { color: '#FFFFFF', fontWeight: '600' },
});
