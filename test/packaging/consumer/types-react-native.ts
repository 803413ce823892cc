/**
 * Imports @ferry/react-native and each of its subpaths the way an app does, and proves each
 * import has its real type, with the probes types.ts explains. Never run.
 */
import { BackgroundSyncManager, createPlatformSignals, SyncProgress, useSyncState } from '@ferry/react-native';
import { createAsyncStorageKeyValueStore } from '@ferry/react-native/async-storage';
import { createExpoSqliteDriver } from '@ferry/react-native/expo-sqlite';
import { openOpSqliteDriver } from '@ferry/react-native/op-sqlite';

/** Takes only a symbol, which nothing Ferry exports is: each call below must be a type error. */
declare function onlyASymbol(value: symbol): void;

// @ts-expect-error BackgroundSyncManager is typed
onlyASymbol(BackgroundSyncManager);
// @ts-expect-error createPlatformSignals is typed
onlyASymbol(createPlatformSignals);
// @ts-expect-error createPlatformSignals' signals is typed
onlyASymbol(createPlatformSignals());
// @ts-expect-error SyncProgress is typed
onlyASymbol(SyncProgress);
// @ts-expect-error useSyncState is typed
onlyASymbol(useSyncState);
// @ts-expect-error useSyncState's state is typed
onlyASymbol(useSyncState());
// @ts-expect-error createAsyncStorageKeyValueStore is typed
onlyASymbol(createAsyncStorageKeyValueStore);
// @ts-expect-error createAsyncStorageKeyValueStore's store is typed
onlyASymbol(createAsyncStorageKeyValueStore());
// @ts-expect-error createExpoSqliteDriver is typed
onlyASymbol(createExpoSqliteDriver);
// @ts-expect-error openOpSqliteDriver is typed
onlyASymbol(openOpSqliteDriver);
// @ts-expect-error openOpSqliteDriver's driver is typed
onlyASymbol(openOpSqliteDriver({ name: 'app.db' }));

// And a wrong use is an error, as it would not be on `any`.
// @ts-expect-error pendingChanges is a count, it has no length
export const pending: number = useSyncState().pendingChanges.length;
