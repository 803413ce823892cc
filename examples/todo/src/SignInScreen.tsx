/** Sign-in as one of the demo users, with a development token from the server. */
import { Text, View } from 'react-native';
import { Button } from './Button';
import { DEMO_USERS } from './session';
import { colors, shared } from './theme';

/** Props of {@link SignInScreen}. */
export interface SignInScreenProps {
  onSignIn: (userId: string) => void;
  error?: string | undefined;
}

/** One button per demo user. Each tab is its own device with its own local database. */
export function SignInScreen({ onSignIn, error }: SignInScreenProps) {
  return (
    <View style={shared.card} testID="sign-in">
      <Text style={shared.title}>Sign in</Text>
      <Text style={[shared.label, { marginVertical: 8 }]}>
        Every tab is a separate device with its own SQLite database. Open this page in two tabs as the same user to
        watch them sync; as alice and bob to see that private todos stay private.
      </Text>
      <Text style={[shared.label, { marginBottom: 8 }]}>
        To try sharing, open three tabs: sign in as alice, bob and carol. In alice's tab create a shared list, add bob
        as editor and carol as viewer, then watch bob's edits reach alice, carol's list stay read-only, and the list
        leave bob's tab when alice removes him.
      </Text>
      <View style={shared.row}>
        {DEMO_USERS.map((user) => (
          <Button key={user} testID={`sign-in-${user}`} label={`Sign in as ${user}`} onPress={() => onSignIn(user)} />
        ))}
      </View>
      {error ? (
        <Text testID="sign-in-error" style={[shared.label, { color: colors.danger, marginTop: 8 }]}>
          {error}
        </Text>
      ) : null}
    </View>
  );
}
