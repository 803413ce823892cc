/** Who is signed in, online or not (with the switch to go offline by hand), what waits to sync. */
import { SyncProgress, usePendingChanges, useSyncState } from '@ferry/react-native';
import { StyleSheet, Switch, Text, View } from 'react-native';
import { Button } from './Button';
import { useSession } from './SessionContext';
import { colors, shared } from './theme';
import { useSignal } from './useSignal';

/** The header of the signed-in app. */
export function StatusBar({ onSignOut }: { onSignOut: () => void }) {
  const { userId, deviceId, network, sync } = useSession();
  const online = useSignal(network.online);
  const forcedOffline = useSignal(network.forcedOffline);
  const state = useSyncState();
  const pending = usePendingChanges();
  const lastError = state.syncErrors.at(-1);
  return (
    <View style={shared.card}>
      <View style={[shared.row, styles.between]}>
        <View>
          <Text testID="signed-in-user" style={shared.title}>
            {userId}'s todos
          </Text>
          <Text style={shared.label}>device {deviceId}</Text>
        </View>
        <Button testID="sign-out" label="Sign out" variant="secondary" onPress={onSignOut} />
      </View>
      <View style={[shared.row, styles.between, { marginTop: 10 }]}>
        <View style={shared.row}>
          <View style={[styles.dot, { backgroundColor: online ? colors.online : colors.offline }]} />
          <Text testID="online-status" aria-live="polite" style={shared.text}>
            {online ? 'Online' : 'Offline'}
          </Text>
        </View>
        <View style={shared.row}>
          <Text style={shared.label}>Work offline</Text>
          <Switch
            testID="offline-switch"
            aria-label="Work offline"
            value={forcedOffline}
            onValueChange={(value) => network.forcedOffline.set(value)}
          />
        </View>
      </View>
      <View style={[shared.row, styles.between, { marginTop: 6 }]}>
        <Text testID="pending-count" style={shared.label}>
          {pending} pending {pending === 1 ? 'change' : 'changes'}
        </Text>
        <Text testID="sync-state" style={shared.label}>
          {state.syncInProgress
            ? 'syncing…'
            : state.lastSyncTimestamp
              ? `synced ${new Date(state.lastSyncTimestamp).toLocaleTimeString()}`
              : 'never synced'}
        </Text>
      </View>
      {lastError && !state.syncInProgress && state.isOnline ? (
        <Text testID="sync-error" style={[shared.label, { color: colors.danger }]}>
          {lastError.errorCode}: {lastError.message}
        </Text>
      ) : null}
      <SyncProgress syncManager={sync.syncManager} showDetails style={{ marginTop: 8 }} />
    </View>
  );
}

const styles = StyleSheet.create({
  between: { justifyContent: 'space-between' },
  dot: { width: 10, height: 10, borderRadius: 5 },
});
