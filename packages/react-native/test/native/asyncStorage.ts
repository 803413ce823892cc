/**
 * Stand-in for AsyncStorage's native module (RNCAsyncStorage), which on a phone keeps the
 * pairs in a file (iOS) or SQLite (Android). Here a Map holds them. The package's own
 * JavaScript (batching, callbacks, error conversion) runs unchanged on top.
 */
type Callback = (errors?: Array<{ message: string }> | null, result?: unknown) => void;

export const asyncStorageData = new Map<string, string>();

export const nativeAsyncStorage = {
  multiGet(keys: string[], callback: Callback) {
    callback(
      null,
      keys.map((key) => [key, asyncStorageData.get(key) ?? null]),
    );
  },
  multiSet(pairs: Array<[string, string]>, callback: Callback) {
    for (const [key, value] of pairs) asyncStorageData.set(key, value);
    callback(null);
  },
  multiRemove(keys: string[], callback: Callback) {
    for (const key of keys) asyncStorageData.delete(key);
    callback(null);
  },
  multiMerge(pairs: Array<[string, string]>, callback: Callback) {
    for (const [key, value] of pairs) {
      const previous = asyncStorageData.get(key);
      asyncStorageData.set(key, JSON.stringify({ ...(previous ? JSON.parse(previous) : {}), ...JSON.parse(value) }));
    }
    callback(null);
  },
  getAllKeys(callback: Callback) {
    callback(null, [...asyncStorageData.keys()]);
  },
  clear(callback: Callback) {
    asyncStorageData.clear();
    callback(null);
  },
};
