/**
 * Chooses the conflict strategy for todos ON THIS DEVICE (`conflictResolver.setStrategyForEntity`).
 * The server's own per-type strategies (`GET /v1/config`) are shown read-only beside it: when
 * the server arbitrates a type, its strategy decides before a conflict ever reaches a device.
 */
import { RESOLUTION_STRATEGIES, type ResolutionStrategy } from '@ferry/client';
import { useEffect, useState } from 'react';
import { Pressable, StyleSheet, Text, View } from 'react-native';
import { useSession } from './SessionContext';
import { colors, shared } from './theme';

const DESCRIPTIONS: Record<ResolutionStrategy, string> = {
  'last-write-wins': 'The later edit wins the whole todo (hybrid logical clock, not device time).',
  'first-write-wins': 'The earlier edit wins the whole todo.',
  'server-wins': 'The copy already on the server wins.',
  'client-wins': 'This device’s copy wins.',
  merge: 'Field by field: the later edit of each field wins, both sides’ other fields are kept.',
  manual: 'Conflicts wait in the inbox until you choose, field by field.',
};

/** The settings tab. */
export function SettingsPanel() {
  const { sync, setTodoStrategy } = useSession();
  const [strategy, setStrategy] = useState(() => sync.conflictResolver.getStrategy('todos'));
  const [serverStrategies, setServerStrategies] = useState<Record<string, string> | null | 'offline'>(null);
  useEffect(() => {
    let active = true;
    sync.remoteAPI
      .getConfig()
      .then((config) => active && setServerStrategies(config.conflictStrategies))
      .catch(() => active && setServerStrategies('offline'));
    return () => {
      active = false;
    };
  }, [sync]);
  const choose = (next: ResolutionStrategy) => {
    setTodoStrategy(next);
    setStrategy(next);
  };
  return (
    <View style={shared.card} testID="settings-panel">
      <Text style={shared.title}>Conflict strategy for todos (this device)</Text>
      <Text style={[shared.label, { marginBottom: 8 }]}>
        Applies when this device finds that a todo it changed offline was also changed elsewhere.
      </Text>
      {RESOLUTION_STRATEGIES.map((option) => {
        const selected = option === strategy;
        return (
          <Pressable
            key={option}
            testID={`strategy-${option}`}
            role="radio"
            aria-checked={selected}
            onPress={() => choose(option)}
            style={[styles.option, selected && styles.selected]}
          >
            <Text style={[shared.text, { fontWeight: selected ? '700' : '400' }]}>
              {selected ? '● ' : '○ '}
              {option}
            </Text>
            <Text style={shared.label}>{DESCRIPTIONS[option]}</Text>
          </Pressable>
        );
      })}
      <Text testID="server-strategies" style={[shared.label, { marginTop: 8 }]}>
        {serverStrategies === null
          ? 'Asking the server for its strategies…'
          : serverStrategies === 'offline'
            ? 'Server strategies unknown (offline).'
            : `Server: ${describeServer(serverStrategies)}`}
      </Text>
    </View>
  );
}

function describeServer(strategies: Record<string, string>): string {
  const entries = Object.entries(strategies);
  if (entries.length === 0) return 'reports every conflict to the device (no server-side arbitration).';
  return entries.map(([type, strategy]) => `${type} → ${strategy}`).join(', ');
}

const styles = StyleSheet.create({
  option: { padding: 8, borderRadius: 6, borderWidth: 1, borderColor: 'transparent', marginBottom: 4 },
  selected: { borderColor: colors.accent, backgroundColor: '#eef3ff' },
});
