import { CLIENT_ID_PATTERN } from '@ferry/protocol';
import type { LocalStore } from '../store/LocalStore.js';

const CLIENT_ID_KEY = 'ferry:clientId';

/**
 * The device's id, created on first use and kept in the store: a reinstalled app (a new
 * database) is a new device, so its change ids and clock never collide with the old one's.
 */
export async function getOrCreateClientId(store: LocalStore, random: () => number = Math.random): Promise<string> {
  return store.write(async (tx) => {
    const existing = await tx.getKv(CLIENT_ID_KEY);
    if (existing && CLIENT_ID_PATTERN.test(existing)) return existing;
    let id = 'c';
    while (id.length < 21) id += Math.floor(random() * 36).toString(36);
    await tx.setKv(CLIENT_ID_KEY, id);
    return id;
  });
}
