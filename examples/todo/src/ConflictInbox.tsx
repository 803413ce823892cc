/** The conflict inbox: manual conflicts parked on this device, and the view that settles one. */
import type { StoredConflict } from '@ferry/client';
import { useConflicts } from '@ferry/react-native';
import { useState } from 'react';
import { Pressable, StyleSheet, Text, View } from 'react-native';
import { ConflictView } from './ConflictView';
import { colors, shared } from './theme';

function titleOf(conflict: StoredConflict): string {
  const title = conflict.local.data?.title ?? conflict.server.data?.title;
  return typeof title === 'string' ? title : conflict.entityId;
}

/** Lists parked conflicts; pressing one opens the field-by-field view. */
export function ConflictInbox() {
  const { conflicts, resolve } = useConflicts();
  const [openId, setOpenId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const open = conflicts.find((conflict) => conflict.id === openId);
  if (open) {
    return (
      <ConflictView
        conflict={open}
        onBack={() => setOpenId(null)}
        onResolve={(decision) => {
          setError(null);
          resolve(open.id, decision).then(
            () => setOpenId(null),
            (caught: unknown) => setError((caught as Error).message),
          );
        }}
      />
    );
  }
  return (
    <View style={shared.card} testID="conflict-inbox">
      <Text style={shared.title}>Conflict inbox</Text>
      <Text style={[shared.label, { marginBottom: 8 }]}>
        With the manual strategy, a todo changed both here and elsewhere waits here; its other changes keep syncing.
      </Text>
      {error ? <Text style={[shared.label, { color: colors.danger }]}>{error}</Text> : null}
      {conflicts.length === 0 ? <Text style={shared.empty}>No conflicts.</Text> : null}
      {conflicts.map((conflict) => (
        <Pressable
          key={conflict.id}
          testID={`conflict-item-${conflict.entityId}`}
          role="button"
          aria-label={`Resolve conflict on ${titleOf(conflict)}`}
          onPress={() => setOpenId(conflict.id)}
          style={styles.item}
        >
          <Text style={shared.text}>“{titleOf(conflict)}”</Text>
          <Text style={shared.label}>
            {conflict.conflictType} · {conflict.conflictingFields.join(', ') || 'whole record'} ·{' '}
            {new Date(conflict.detectedAt).toLocaleTimeString()}
          </Text>
        </Pressable>
      ))}
    </View>
  );
}

const styles = StyleSheet.create({
  item: { paddingVertical: 8, borderBottomColor: colors.border, borderBottomWidth: 1 },
});
