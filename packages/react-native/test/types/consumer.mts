// Compiled by check-types.mjs under each moduleResolution an app may use (bundler, node16,
// nodenext), against the built package as an app sees it (package.json exports → dist/*.d.ts).
// An export whose type failed to resolve is `any`, silently so (apps skip lib checks), and
// `any` fits anywhere: each check below must be an error, or tsc reports the unused directive.
import {
  BackgroundSyncManager,
  BackgroundTaskError,
  createPlatformSignals,
  createSyncSystem,
  runBackgroundSyncHeadless,
  SyncProgress,
  SyncProvider,
  useConflicts,
  useQuery,
  type useSyncState,
} from '@ferry/react-native';
import { createAsyncStorageKeyValueStore } from '@ferry/react-native/async-storage';
import { createExpoSqliteDriver } from '@ferry/react-native/expo-sqlite';
import { openOpSqliteDriver } from '@ferry/react-native/op-sqlite';

/** Nothing Ferry exports is a symbol: assigning one to this must fail to compile. */
export let notAny: symbol;
// @ts-expect-error: typed, so not assignable to symbol
notAny = BackgroundSyncManager;
// @ts-expect-error: typed, so not assignable to symbol
notAny = null as unknown as InstanceType<typeof BackgroundSyncManager>['runBackgroundSync'];
// @ts-expect-error: typed, so not assignable to symbol
notAny = BackgroundTaskError;
// @ts-expect-error: typed, so not assignable to symbol
notAny = createPlatformSignals;
// @ts-expect-error: typed, so not assignable to symbol
notAny = null as unknown as ReturnType<typeof createPlatformSignals>['online'];
// @ts-expect-error: typed, so not assignable to symbol
notAny = createSyncSystem;
// @ts-expect-error: typed, so not assignable to symbol
notAny = runBackgroundSyncHeadless;
// @ts-expect-error: typed, so not assignable to symbol
notAny = SyncProgress;
// @ts-expect-error: typed, so not assignable to symbol
notAny = SyncProvider;
// @ts-expect-error: typed, so not assignable to symbol
notAny = useConflicts;
// @ts-expect-error: typed, so not assignable to symbol
notAny = useQuery;
// @ts-expect-error: typed, so not assignable to symbol
notAny = null as unknown as ReturnType<typeof useSyncState>;
// @ts-expect-error: typed, so not assignable to symbol
notAny = createAsyncStorageKeyValueStore;
// @ts-expect-error: typed, so not assignable to symbol
notAny = createExpoSqliteDriver;
// @ts-expect-error: typed, so not assignable to symbol
notAny = null as unknown as Parameters<typeof createExpoSqliteDriver>[1];
// @ts-expect-error: typed, so not assignable to symbol
notAny = openOpSqliteDriver;
// @ts-expect-error: typed, so not assignable to symbol
notAny = null as unknown as Parameters<typeof openOpSqliteDriver>[0]['encryptionKey'];
