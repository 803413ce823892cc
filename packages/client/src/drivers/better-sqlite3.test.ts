import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runStoreContract } from '../testing/storeContract.js';
import { createBetterSqliteDriver } from './better-sqlite3.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

runStoreContract('better-sqlite3', { describe, it, expect, beforeEach, afterEach }, async (name) =>
  createBetterSqliteDriver(join(dir, `${name}.db`)),
);
