/**
 * Child entry: the peer's client. A local PouchDB (LevelDB adapter) holding `count` records
 * replicates to the express-pouchdb child (push), then a fresh local PouchDB replicates them
 * back (pull); `batch_size: 1000`, like the floor's batches, other options at their defaults.
 * Documents carry the same fields as Ferry's records, with the record id as `_id`.
 *
 * Usage: pouchClient.ts <url> <count>
 */
import { rmSync } from 'node:fs';
import PouchDB from 'pouchdb';
import { makeRecord } from '../data.js';
import { finish } from '../proc.js';
import { expectCount, fetchWithTimeout, scratchDir, timed } from './measure.js';

const BATCH = 1000;

const [url, count] = process.argv.slice(2);
if (!url || !count) throw new Error('Usage: pouchClient.ts <url> <count>');
const n = Number(count);
const dir = scratchDir('pouch-client');
try {
  const LocalPouch = PouchDB.defaults({ prefix: `${dir}/` });
  // Every request to the server has a deadline, as Ferry's transport has.
  const remote = new PouchDB(`${url}/bench`, {
    fetch: (input: string, init: RequestInit) => fetchWithTimeout(input, init, 60_000),
  });
  const writer = new LocalPouch('device-a');
  for (let start = 0; start < n; start += BATCH) {
    const docs = [];
    for (let index = start; index < Math.min(n, start + BATCH); index++) {
      const { id, ...fields } = makeRecord(index);
      docs.push({ _id: id, ...fields });
    }
    await writer.bulkDocs(docs);
  }
  const push = await timed(n, async () => {
    const result = await PouchDB.replicate(writer, remote, { batch_size: BATCH });
    expectCount('PouchDB push', result.docs_written, n);
  });
  await writer.close();
  const reader = new LocalPouch('device-b');
  const pull = await timed(n, async () => {
    const result = await PouchDB.replicate(remote, reader, { batch_size: BATCH });
    expectCount('PouchDB pull', result.docs_written, n);
  });
  await reader.close();
  finish({ push, pull });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
