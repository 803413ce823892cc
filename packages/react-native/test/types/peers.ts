// The peers' real exports, passed where Ferry takes them, as an app passes them: no casts.
// Compiled by scripts/check-types.mjs against the built package and the peers' own
// declarations (expo-sqlite and AsyncStorage 3 are typechecked only, see that script).
import { BackgroundSyncManager, createPlatformSignals, createSyncSystem } from '@ferry/react-native';
import { createAsyncStorageKeyValueStore } from '@ferry/react-native/async-storage';
import { createExpoSqliteDriver } from '@ferry/react-native/expo-sqlite';
import { createOpSqliteDriver } from '@ferry/react-native/op-sqlite';
import { open } from '@op-engineering/op-sqlite';
import AsyncStorage from '@react-native-async-storage/async-storage';
import NetInfo from '@react-native-community/netinfo';
import AsyncStorageV3 from 'async-storage-v3';
import { openDatabaseAsync, type SQLiteDatabase } from 'expo-sqlite';
import BackgroundFetch from 'react-native-background-fetch';

export const signals = createPlatformSignals({ netInfo: NetInfo });
export const storage = createAsyncStorageKeyValueStore('ferry:', AsyncStorage);
export const storageV3 = createAsyncStorageKeyValueStore('ferry:', AsyncStorageV3);
export const opSqlite = createOpSqliteDriver(open({ name: 'app.db' }));
export const expo = async () => createExpoSqliteDriver(await openDatabaseAsync('app.db'), { encryptionKey: 'k' });
export const expoDatabase = (db: SQLiteDatabase) => createExpoSqliteDriver(db);

export const manager = async () =>
  createSyncSystem({
    apiBaseUrl: 'https://sync.example.com',
    driver: opSqlite,
    backgroundSync: (m) =>
      new BackgroundSyncManager(m, { backgroundFetch: BackgroundFetch, taskId: 'com.example.sync' }),
  });

BackgroundSyncManager.registerHeadlessTask(
  { storage, createSyncSystem: (config) => createSyncSystem({ ...config, driver: opSqlite }) },
  BackgroundFetch,
);
