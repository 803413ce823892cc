/**
 * Which list the todo screen shows: "My todos" (the user's private space) or one of the shared
 * lists (spaces) the user is a member of, with the user's role in it; and a field to create a
 * new shared list. The list of spaces comes from `useSpaces()`: the server's list as of the
 * last sync, plus lists this device created and has not pushed yet.
 */
import { useSpaces } from '@ferry/react-native';
import { useState } from 'react';
import { StyleSheet, Text, TextInput, View } from 'react-native';
import { Button } from './Button';
import { Chip } from './Chip';
import { shared } from './theme';

/** Props of {@link ListPicker}. */
export interface ListPickerProps {
  /** The shown list: a space id, or null for "My todos". */
  selected: string | null;
  onSelect: (space: string | null) => void;
}

/** The "Lists" card above the todos. */
export function ListPicker({ selected, onSelect }: ListPickerProps) {
  const { spaces, actions } = useSpaces();
  const [name, setName] = useState('');
  const create = async () => {
    const trimmed = name.trim();
    if (!trimmed) return;
    setName('');
    // Queued like any write: works offline, and the list shows at once as "not synced yet".
    const { id } = await actions.create({ name: trimmed });
    onSelect(id);
  };
  return (
    <View style={shared.card} testID="list-picker">
      <Text style={shared.title}>Lists</Text>
      {spaces.length === 0 ? (
        <Text testID="lists-hint" style={shared.label}>
          No shared lists yet. Create one below, then share it with another demo user from its sharing card.
        </Text>
      ) : null}
      <View style={[shared.row, styles.chips]} role="tablist" aria-label="Lists">
        <Chip
          testID="list-private"
          label="My todos (private)"
          active={selected === null}
          onPress={() => onSelect(null)}
        />
        {spaces.map((space) => (
          <Chip
            key={space.id}
            testID={`list-${space.id}`}
            label={`${space.name} · ${space.role}${space.pending ? ' · not synced yet' : ''}`}
            active={selected === space.id}
            onPress={() => onSelect(space.id)}
          />
        ))}
      </View>
      <View style={[shared.row, { marginTop: 10 }]}>
        <TextInput
          testID="new-list-input"
          aria-label="New shared list"
          placeholder="New shared list, e.g. Groceries"
          style={shared.input}
          value={name}
          onChangeText={setName}
          onSubmitEditing={() => void create()}
        />
        <Button testID="create-list" label="Create shared list" onPress={() => void create()} disabled={!name.trim()} />
      </View>
    </View>
  );
}

const styles = StyleSheet.create({
  chips: { flexWrap: 'wrap', marginTop: 8 },
});
