/**
 * A {@link KeyValueStore} over AsyncStorage, exposed as `@ferry/react-native/async-storage`:
 * for small apps' settings and for the background-sync configuration the headless task
 * reads before it opens the database.
 */
import type { KeyValueStore } from '@ferry/client';
import AsyncStorage from '@react-native-async-storage/async-storage';

/** The part of AsyncStorage the store uses. */
export interface AsyncStorageLike {
  getItem(key: string): Promise<string | null>;
  setItem(key: string, value: string): Promise<void>;
  removeItem(key: string): Promise<void>;
}

/**
 * A key-value store whose keys live under `prefix` in AsyncStorage, so Ferry's keys never
 * collide with the app's own.
 *
 * @example
 * import { createAsyncStorageKeyValueStore } from '@ferry/react-native/async-storage';
 * const storage = createAsyncStorageKeyValueStore();
 */
export function createAsyncStorageKeyValueStore(
  prefix = 'ferry:',
  storage: AsyncStorageLike = AsyncStorage,
): KeyValueStore {
  return {
    getItem: (key) => storage.getItem(prefix + key),
    setItem: (key, value) => storage.setItem(prefix + key, value),
    removeItem: (key) => storage.removeItem(prefix + key),
  };
}
