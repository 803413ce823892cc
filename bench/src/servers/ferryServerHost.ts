/**
 * Child entry: a Ferry server on a fresh SQLite file (WAL, synchronous FULL, as shipped),
 * listening on 127.0.0.1, optionally seeded with `seed` records for the bench user.
 *
 * Usage: ferryServerHost.ts <seedCount>
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Change, HybridLogicalClock } from '@ferry/protocol';
import { createServer, decideChange, defaultSchema, SqliteStorage, signDevToken } from '@ferry/server';
import { makeRecord, recordFields } from '../data.js';
import { onStop, report } from '../proc.js';

/** The user every benchmark client syncs as (the server's scope). */
export const BENCH_USER = 'bench';
const SECRET = 'benchmark-secret-long-enough-for-hs256';
const SEED_BATCH = 5000;

/** Writes `count` records through the storage's own apply path, in large transactions. */
async function seed(storage: SqliteStorage, count: number): Promise<void> {
  const clock = new HybridLogicalClock('seeder');
  const decide = { schema: defaultSchema, clock: new HybridLogicalClock('server') };
  for (let start = 0; start < count; start += SEED_BATCH) {
    const changes: Change[] = [];
    for (let index = start; index < Math.min(count, start + SEED_BATCH); index++) {
      const record = makeRecord(index);
      const hlc = clock.now();
      changes.push({
        id: `${hlc}.seed`,
        entityType: 'todos',
        entityId: record.id,
        operation: 'CREATE',
        data: recordFields(record),
        timestamp: Date.now(),
        hlc,
        version: 1,
        vector: { seeder: 1 },
        clientId: 'seeder',
      });
    }
    await storage.applyChanges(BENCH_USER, changes, (input) => decideChange(input, decide));
  }
}

async function main(): Promise<void> {
  const seedCount = Number(process.argv[2] ?? 0);
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-server-'));
  const storage = new SqliteStorage(join(dir, 'server.db'));
  if (seedCount > 0) await seed(storage, seedCount);
  const server = await createServer({ storage, schema: defaultSchema, auth: { secret: SECRET } });
  const { url } = await server.listen({ port: 0, host: '127.0.0.1' });
  const token = await signDevToken(SECRET, BENCH_USER, { expiresIn: '2h' });
  onStop(async () => {
    await server.close();
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });
  report({ type: 'ready', url, token });
}

await main();
