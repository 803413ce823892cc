/** A small labelled button on `Pressable`, primary or secondary. */
import { Pressable, Text } from 'react-native';
import { shared } from './theme';

/** Props of {@link Button}. */
export interface ButtonProps {
  label: string;
  onPress: () => void;
  testID?: string;
  variant?: 'primary' | 'secondary';
  disabled?: boolean;
  accessibilityLabel?: string;
}

/** A button whose accessible name is its label unless one is given. */
export function Button({ label, onPress, testID, variant = 'primary', disabled, accessibilityLabel }: ButtonProps) {
  const primary = variant === 'primary';
  return (
    <Pressable
      testID={testID}
      role="button"
      aria-label={accessibilityLabel ?? label}
      disabled={disabled}
      onPress={onPress}
      style={({ pressed }) => [
        primary ? shared.button : shared.secondaryButton,
        { opacity: disabled || pressed ? 0.6 : 1 },
      ]}
    >
      <Text style={primary ? shared.buttonText : shared.secondaryButtonText}>{label}</Text>
    </Pressable>
  );
}
