/** A small selectable pill (a tab of a row of choices): filters, sorts, lists. */
import { Pressable, StyleSheet, Text } from 'react-native';
import { colors } from './theme';

/** Props of {@link Chip}. */
export interface ChipProps {
  testID: string;
  label: string;
  active: boolean;
  onPress: () => void;
}

/** A pill with `role="tab"`, highlighted when `active`. */
export function Chip({ testID, label, active, onPress }: ChipProps) {
  return (
    <Pressable
      testID={testID}
      role="tab"
      aria-selected={active}
      onPress={onPress}
      style={[styles.chip, active && styles.activeChip]}
    >
      <Text style={[styles.chipText, active && styles.activeChipText]}>{label}</Text>
    </Pressable>
  );
}

const styles = StyleSheet.create({
  chip: { paddingHorizontal: 10, paddingVertical: 4, borderRadius: 14, backgroundColor: '#e6e9ef' },
  activeChip: { backgroundColor: colors.accent },
  chipText: { color: colors.text, fontSize: 13 },
  activeChipText: { color: '#ffffff', fontWeight: '600' },
});
