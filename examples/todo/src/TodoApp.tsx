/**
 * The signed-in app: status header, sync progress, and tabs for todos (of the private list or a
 * shared one), settings, conflicts, dead letters and diagnostics.
 */
import { SyncDiagnostics, useConflicts, useDeadLetters, useSpaces, useSyncSystem } from '@ferry/react-native';
import { useEffect, useRef, useState } from 'react';
import { Pressable, StyleSheet, Text, View } from 'react-native';
import { ConflictInbox } from './ConflictInbox';
import { DeadLetterList } from './DeadLetterList';
import { ListPicker } from './ListPicker';
import { SettingsPanel } from './SettingsPanel';
import { SharePanel } from './SharePanel';
import { StatusBar } from './StatusBar';
import { TodoList } from './TodoList';
import { colors, shared } from './theme';

type TabKey = 'todos' | 'settings' | 'conflicts' | 'dead-letters' | 'diagnostics';

/** Everything behind sign-in. */
export function TodoApp({ onSignOut }: { onSignOut: () => void }) {
  const [tab, setTab] = useState<TabKey>('todos');
  const { conflicts } = useConflicts();
  const { deadLetters } = useDeadLetters();
  const sync = useSyncSystem();
  const { spaces } = useSpaces();
  const [listId, setListId] = useState<string | null>(null);
  const [lost, setLost] = useState<string | null>(null);
  const list = listId === null ? null : (spaces.find((space) => space.id === listId) ?? null);
  // The name of the shown list once the spaces list has it (a list just created here may not be there yet).
  const seen = useRef<{ id: string; name: string } | null>(null);
  if (list !== null) seen.current = { id: list.id, name: list.name };
  useEffect(() => {
    // The shown list left the user's spaces (removed by its owner, or left): a sync purged it
    // from this device, so fall back to the private list and say why.
    if (listId !== null && list === null && seen.current?.id === listId) {
      setLost(seen.current.name);
      setListId(null);
    }
  }, [listId, list]);
  const select = (space: string | null) => {
    setLost(null);
    setListId(space);
  };
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
      {tab === 'todos' ? (
        <>
          <ListPicker selected={listId} onSelect={select} />
          {lost !== null ? (
            <Text testID="list-lost" style={[shared.card, shared.label, { color: colors.danger }]}>
              “{lost}” is no longer shared with you: its todos were removed from this device.
            </Text>
          ) : null}
          {list !== null ? <SharePanel space={list} /> : null}
          <TodoList space={listId} readOnly={list?.role === 'viewer'} />
        </>
      ) : null}
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
