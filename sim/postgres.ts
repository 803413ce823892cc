/**
 * The simulator on PostgreSQL: one fresh database per world on a cluster the run names
 * (`FERRY_SIM_PG=postgres://…/postgres`, or `--postgres` to start a throwaway cluster).
 */
import pg from 'pg';

const TIMEOUT_MS = 30_000;

async function admin<T>(adminUrl: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: TIMEOUT_MS });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** Creates the empty database of one world; returns its URL. */
export async function createWorldDatabase(adminUrl: string, seed: number): Promise<{ url: string; name: string }> {
  // Built from numbers only, never input: CREATE DATABASE takes no parameters.
  const name = `ferry_sim_${process.pid}_${Math.trunc(seed)}_${Date.now() % 1_000_000}`;
  await admin(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), name };
}

/** Drops a world's database, closing whatever connections are left. */
export async function dropWorldDatabase(adminUrl: string, name: string): Promise<void> {
  if (!/^ferry_sim_\d+_\d+_\d+$/.test(name)) throw new Error(`Not a simulator database: ${name}`);
  await admin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}
