/**
 * Child entry: the peer's server. express-pouchdb (CouchDB's HTTP API) over PouchDB 9 with
 * the LevelDB adapter, so both sides of the PouchDB run keep their data in files, as Ferry
 * and the floor do with SQLite. Listens on 127.0.0.1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import expressPouchDB from 'express-pouchdb';
import PouchDB from 'pouchdb';
import { onStop, report } from '../proc.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-pouch-server-'));
const ServerPouch = PouchDB.defaults({ prefix: `${dir}/` });
const handler = expressPouchDB(ServerPouch, {
  mode: 'minimumForPouchDB',
  inMemoryConfig: true,
  logPath: join(dir, 'log.txt'),
});
const server = createServer(handler);
server.requestTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  report({ type: 'ready', url: `http://127.0.0.1:${port}` });
});
onStop(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => {
        rmSync(dir, { recursive: true, force: true });
        resolve();
      });
      server.closeAllConnections();
    }),
);
