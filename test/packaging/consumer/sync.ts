/**
 * Two devices of one user, each a sync system on its own SQLite file, against a running Ferry
 * server: a todo written on one reaches the other, and an edit travels back. Runs as an app
 * outside the repository would, on the installed tarballs. Prints one JSON line; exits 1 on a
 * mismatch. Reads FERRY_URL and FERRY_JWT_SECRET (the server's) and FERRY_DATA_DIR.
 */
import { join } from 'node:path';
import { createSyncSystem, type SyncSystem } from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { SignJWT } from 'jose';

type Todo = { title: string; completed: boolean };

const url = process.env.FERRY_URL;
const secret = process.env.FERRY_JWT_SECRET;
const dataDir = process.env.FERRY_DATA_DIR;
if (!url || !secret || !dataDir) throw new Error('Set FERRY_URL, FERRY_JWT_SECRET and FERRY_DATA_DIR');

// What an app's auth service does: an HS256 token for the user, with an expiry.
const token = await new SignJWT()
  .setProtectedHeader({ alg: 'HS256' })
  .setSubject('alice')
  .setIssuedAt()
  .setExpirationTime('10m')
  .sign(new TextEncoder().encode(secret));

const device = (name: string): Promise<SyncSystem> =>
  createSyncSystem({
    apiBaseUrl: url,
    getToken: () => token,
    driver: createBetterSqliteDriver(join(dataDir, `${name}.db`)),
    autoStart: false,
  });

const phone = await device('phone');
const tablet = await device('tablet');
try {
  const written = await phone.collection<Todo>('todos').insert({ title: 'Buy milk', completed: false });
  await phone.forceSync();
  await tablet.forceSync();
  const received = await tablet.collection<Todo>('todos').get(written.id);

  await tablet.collection<Todo>('todos').update(written.id, { completed: true });
  await tablet.forceSync();
  await phone.forceSync();
  const back = await phone.collection<Todo>('todos').get(written.id);

  const ok = received?.title === 'Buy milk' && received.completed === false && back?.completed === true;
  console.log(JSON.stringify({ ok, id: written.id, received, back }));
  if (!ok) process.exitCode = 1;
} finally {
  await phone.close();
  await tablet.close();
}
