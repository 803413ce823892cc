/**
 * Test-only entry (imports Vitest): the storage contract every `ServerStorage` backend must
 * pass. Kept out of `index.ts` so that running the server never loads a test framework.
 */
export { runStorageContract } from './storage/storageContract.js';
