import { beforeEach, describe, expect, it } from '@jest/globals';
import AsyncStorage from '@react-native-async-storage/async-storage';
import { asyncStorageData } from '../../test/native/asyncStorage.ts';
import { createAsyncStorageKeyValueStore } from './async-storage.ts';

// AsyncStorage's own JavaScript runs over a stand-in for its native module (test/native).
beforeEach(() => asyncStorageData.clear());

describe('AsyncStorage key-value store', () => {
  it('reads, overwrites and removes values', async () => {
    const kv = createAsyncStorageKeyValueStore();
    expect(await kv.getItem('k')).toBeNull();
    await kv.setItem('k', 'v1');
    await kv.setItem('k', 'v2');
    expect(await kv.getItem('k')).toBe('v2');
    await kv.removeItem('k');
    expect(await kv.getItem('k')).toBeNull();
  });

  it("keeps Ferry's keys apart from the app's own", async () => {
    await AsyncStorage.setItem('token', 'the app’s');
    const kv = createAsyncStorageKeyValueStore('ferry:');
    await kv.setItem('token', 'ferry’s');
    expect(await AsyncStorage.getItem('token')).toBe('the app’s');
    expect(await kv.getItem('token')).toBe('ferry’s');
    expect([...asyncStorageData.keys()].sort()).toEqual(['ferry:token', 'token']);
    await kv.removeItem('token');
    expect(await AsyncStorage.getItem('token')).toBe('the app’s');
  });

  it('round-trips text with quotes, newlines and emoji', async () => {
    const kv = createAsyncStorageKeyValueStore();
    const value = JSON.stringify({ quote: 'it\'s "fine"', lines: 'a\nb', emoji: '🚢' });
    await kv.setItem('config', value);
    expect(await kv.getItem('config')).toBe(value);
  });
});
