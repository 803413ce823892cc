/**
 * Entry with every optional peer installed: the root and every subpath of
 * @ferry/react-native (op-sqlite, expo-sqlite, async-storage).
 */
import { BackgroundSyncManager } from '@ferry/react-native';
import { createAsyncStorageKeyValueStore } from '@ferry/react-native/async-storage';
import { createExpoSqliteDriver, type ExpoSqliteDatabase } from '@ferry/react-native/expo-sqlite';
import { openOpSqliteDriver } from '@ferry/react-native/op-sqlite';
import { AppRegistry } from 'react-native';
import { App } from './App';

const storage = createAsyncStorageKeyValueStore();
const openDriver = async () => openOpSqliteDriver({ name: 'app.db', encryptionKey: 'bundle-check' });

BackgroundSyncManager.registerHeadlessTask({
  storage,
  createSyncSystem: async () => {
    throw new Error('not run: this app only proves the bundle');
  },
});
// The expo-sqlite driver takes the database the app opened; it never imports expo-sqlite itself.
export const wrapExpo = (db: ExpoSqliteDatabase) => createExpoSqliteDriver(db, { encryptionKey: 'bundle-check' });

function Root() {
  return <App openDriver={openDriver} />;
}

AppRegistry.registerComponent('FerryBundle', () => Root);
