/**
 * The app both bundle configurations share: everything the root of @ferry/react-native
 * offers (engine, platform signals, background sync, hooks, <SyncProvider>, <SyncProgress>),
 * used for real so that nothing is left out of the bundle.
 */
import {
  BackgroundSyncManager,
  createPlatformSignals,
  createSyncSystem,
  DEFAULT_BACKGROUND_TASK_ID,
  runBackgroundSyncHeadless,
  runHeadlessSync,
  type SqlDriver,
  SyncProgress,
  SyncProvider,
  type SyncSystem,
  useConflicts,
  useDeadLetters,
  usePendingChanges,
  useQuery,
  useSyncProgress,
  useSyncState,
  useSyncSystem,
} from '@ferry/react-native';
import { useEffect, useState } from 'react';
import { Text, View } from 'react-native';

function Status() {
  const state = useSyncState();
  const progress = useSyncProgress();
  const pending = usePendingChanges();
  const { conflicts } = useConflicts();
  const { deadLetters } = useDeadLetters();
  const { data } = useQuery<{ id: string; title: string }>('todos', { orderBy: 'title' });
  const { clientId } = useSyncSystem();
  return (
    <Text accessibilityLabel={clientId}>
      {`${progress.phase} ${pending} ${state.syncErrors.length} ${conflicts.length} ${deadLetters.length} ${data.length}`}
    </Text>
  );
}

/** Starts the engine on `openDriver()` and renders the hooks and <SyncProgress> over it. */
export function App({ openDriver }: { openDriver: () => Promise<SqlDriver> }) {
  const [sync, setSync] = useState<SyncSystem | null>(null);
  useEffect(() => {
    const config = { apiBaseUrl: 'https://sync.example.com' };
    void openDriver()
      .then((driver) =>
        createSyncSystem({
          ...config,
          ...createPlatformSignals(),
          driver,
          getToken: () => 'token',
          backgroundSync: (manager) => new BackgroundSyncManager(manager, { taskId: DEFAULT_BACKGROUND_TASK_ID }),
        }),
      )
      .then(setSync);
  }, [openDriver]);
  if (!sync) return <View />;
  return (
    <SyncProvider sync={sync}>
      <Status />
      <SyncProgress syncManager={sync.syncManager} showDetails />
    </SyncProvider>
  );
}

export { runBackgroundSyncHeadless, runHeadlessSync };
