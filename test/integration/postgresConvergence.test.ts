/**
 * The end-to-end convergence, conflict, sharing and pull-page-size scenarios again, on a server over PostgreSQL: the
 * same scenario files run here with the harness pointed at a fresh database per test.
 */
import { PostgresStorage } from '@ferry/server';
import { afterAll, beforeAll, it } from 'vitest';
import { useHarnessDatabase } from '../support/harness.js';
import { type PostgresCluster, postgresAvailable, startPostgres } from '../support/postgres.js';

if (postgresAvailable()) {
  let cluster: Promise<PostgresCluster> | undefined;
  useHarnessDatabase(async () => {
    cluster ??= startPostgres();
    const connectionString = await (await cluster).createDatabase();
    return () => PostgresStorage.open({ connectionString, maxConnections: 4 });
  });
  // Started up front, with its own timeout, rather than inside the first test's hook.
  beforeAll(async () => {
    cluster ??= startPostgres();
    await cluster;
  }, 90_000);
  afterAll(async () => {
    await (await cluster)?.stop();
  }, 60_000);
  // Importing the scenario files registers their suites in this file, on this harness database.
  await import('./convergence.test.js');
  await import('./conflicts.test.js');
  await import('./sharing.test.js');
  await import('./pullPageSize.test.js');
} else {
  it.skip('PostgreSQL scenarios (PostgreSQL binaries not found)', () => undefined);
}
