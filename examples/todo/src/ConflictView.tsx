/**
 * Manual resolution of one parked conflict: this device's version and the server's side by
 * side, field by field. Keep one side whole, or pick per field and keep the merge.
 */
import type { ConflictDecision, RecordData, StoredConflict, VersionedState } from '@ferry/client';
import { isDeletedState, isPatchState } from '@ferry/client/protocol';
import { useState } from 'react';
import { Pressable, StyleSheet, Text, View } from 'react-native';
import { Button } from './Button';
import { colors, shared } from './theme';

type Side = 'local' | 'server';

/** The record a side stands for: a local `UPDATE` patch is shown over the server's fields. */
function fullRecord(state: VersionedState, other: VersionedState): RecordData | null {
  if (isDeletedState(state)) return null;
  return isPatchState(state) && !isDeletedState(other) ? { ...other.data, ...state.data } : { ...state.data };
}

function show(value: unknown): string {
  return value === undefined ? '—' : JSON.stringify(value);
}

/** Props of {@link ConflictView}. */
export interface ConflictViewProps {
  conflict: StoredConflict;
  onResolve: (decision: ConflictDecision) => void;
  onBack: () => void;
}

/** Local vs server for every field, with a per-field choice. */
export function ConflictView({ conflict, onResolve, onBack }: ConflictViewProps) {
  const local = fullRecord(conflict.local, conflict.server);
  const server = fullRecord(conflict.server, conflict.local);
  const fields = [...new Set([...Object.keys(local ?? {}), ...Object.keys(server ?? {})])].sort();
  const [choice, setChoice] = useState<Record<string, Side>>(() =>
    Object.fromEntries(fields.map((field) => [field, 'local' as Side])),
  );
  const merged = () => {
    const data: RecordData = {};
    for (const field of fields) {
      const source = choice[field] === 'server' ? server : local;
      if (source && Object.hasOwn(source, field)) data[field] = source[field] as RecordData[string];
    }
    return data;
  };
  return (
    <View style={shared.card} testID="conflict-view">
      <Text style={shared.title}>
        Conflict on {conflict.entityType} “{String(local?.title ?? server?.title ?? conflict.entityId)}”
      </Text>
      <Text style={[shared.label, { marginBottom: 8 }]}>
        {conflict.conflictType}: this device and another one changed it while apart.
        {conflict.conflictingFields.length > 0 ? ` Differing fields: ${conflict.conflictingFields.join(', ')}.` : ''}
      </Text>
      <View style={[styles.line, styles.header]}>
        <Text style={[styles.field, shared.label]}>field</Text>
        <Text style={[styles.cell, shared.label]}>this device {local === null ? '(deleted)' : ''}</Text>
        <Text style={[styles.cell, shared.label]}>server {server === null ? '(deleted)' : ''}</Text>
      </View>
      {fields.map((field) => {
        const differs = show(local?.[field]) !== show(server?.[field]);
        return (
          <View key={field} style={styles.line} testID={`conflict-field-${field}`}>
            <Text style={[styles.field, shared.text, differs && styles.differs]}>{field}</Text>
            {(['local', 'server'] as const).map((side) => (
              <Pressable
                key={side}
                testID={`pick-${field}-${side}`}
                role="radio"
                aria-checked={choice[field] === side}
                onPress={() => setChoice((current) => ({ ...current, [field]: side }))}
                style={[styles.cell, choice[field] === side && styles.picked]}
              >
                <Text style={shared.text}>{show((side === 'local' ? local : server)?.[field])}</Text>
              </Pressable>
            ))}
          </View>
        );
      })}
      <View style={[shared.row, { marginTop: 12, flexWrap: 'wrap' }]}>
        <Button testID="resolve-local" label="Keep this device's" onPress={() => onResolve({ winner: 'local' })} />
        <Button testID="resolve-server" label="Keep the server's" onPress={() => onResolve({ winner: 'server' })} />
        <Button
          testID="resolve-merged"
          label="Keep my picks"
          onPress={() => onResolve({ winner: 'merged', data: merged() })}
        />
        <Button testID="conflict-back" label="Back" variant="secondary" onPress={onBack} />
      </View>
    </View>
  );
}

const styles = StyleSheet.create({
  line: { flexDirection: 'row', alignItems: 'center', gap: 6, paddingVertical: 4 },
  header: { borderBottomColor: colors.border, borderBottomWidth: 1 },
  field: { width: 110 },
  cell: { flex: 1, padding: 6, borderRadius: 6, borderWidth: 1, borderColor: 'transparent' },
  picked: { borderColor: colors.accent, backgroundColor: '#eef3ff' },
  differs: { color: colors.warning, fontWeight: '700' },
});
