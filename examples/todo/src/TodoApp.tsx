/** The signed-in app: status header, sync progress, and tabs for todos, settings, conflicts, dead letters and diagnostics. */
import { SyncDiagnostics, useConflicts, useDeadLetters, useSyncSystem } from '@ferry/react-native';
import { useState } from 'react';
import { Pressable, StyleSheet, Text, View } from 'react-native';
import { ConflictInbox } from './ConflictInbox';
import { DeadLetterList } from './DeadLetterList';
import { SettingsPanel } from './SettingsPanel';
import { StatusBar } from './StatusBar';
import { TodoList } from './TodoList';
import { colors } from './theme';

type TabKey = 'todos' | 'settings' | 'conflicts' | 'dead-letters' | 'diagnostics';

/** Everything behind sign-in. */
export function TodoApp({ onSignOut }: { onSignOut: () => void }) {
  const [tab, setTab] = useState<TabKey>('todos');
  const { conflicts } = useConflicts();
  const { deadLetters } = useDeadLetters();
  const sync = useSyncSystem();
  const tabs: Array<{ key: TabKey; label: string }> = [
    { key: 'todos', label: 'Todos' },
    { key: 'settings', label: 'Settings' },
    { key: 'conflicts', label: `Conflicts (${conflicts.length})` },
    { key: 'dead-letters', label: `Dead letters (${deadLetters.length})` },
    { key: 'diagnostics', label: 'Diagnostics' },
  ];
  return (
    <View>
      <StatusBar onSignOut={onSignOut} />
      <View style={styles.tabs} role="tablist">
        {tabs.map(({ key, label }) => (
          <Pressable
            key={key}
            testID={`tab-${key}`}
            role="tab"
            aria-selected={tab === key}
            onPress={() => setTab(key)}
            style={[styles.tab, tab === key && styles.activeTab]}
          >
            <Text style={[styles.tabText, tab === key && styles.activeTabText]}>{label}</Text>
          </Pressable>
        ))}
      </View>
      {tab === 'todos' ? <TodoList /> : null}
      {tab === 'settings' ? <SettingsPanel /> : null}
      {tab === 'conflicts' ? <ConflictInbox /> : null}
      {tab === 'dead-letters' ? <DeadLetterList /> : null}
      {tab === 'diagnostics' ? <SyncDiagnostics sync={sync} /> : null}
    </View>
  );
}

const styles = StyleSheet.create({
  tabs: { flexDirection: 'row', flexWrap: 'wrap', gap: 6, marginBottom: 12 },
  tab: { paddingHorizontal: 12, paddingVertical: 6, borderRadius: 16, backgroundColor: '#e6e9ef' },
  activeTab: { backgroundColor: colors.accent },
  tabText: { color: colors.text, fontSize: 14 },
  activeTabText: { color: '#ffffff', fontWeight: '600' },
});
