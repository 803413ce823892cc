/**
 * Compact pulled records (`GET /v1/pull` with `ferry-records: compact`) against whole ones, end
 * to end: two real servers on 127.0.0.1, two identical pairs of deterministic devices on real
 * SQLite files. In one world the reader asks for compact records (the client's default); in the
 * other the header never reaches the server (as with a server that predates it) and every record
 * comes whole. The writer creates, updates whole and in part, deletes, and the reader pulls in
 * small pages with a pending edit of its own (a conflict); both readers must end every pull with
 * byte-identical databases and the same results.
 */

import { RECORDS_HEADER } from '@ferry/protocol';
import { describe, expect, it } from 'vitest';
import {
  type DeterministicDevice as Device,
  deterministicWorlds,
  dumpDevice as dump,
  expectIdenticalRuns,
} from '../support/deterministicDevices.js';

const openWorld = deterministicWorlds();

interface World {
  writer: Device;
  reader: Device;
  /** Records that arrived without `fieldHlcs` on `GET /v1/pull`, and with them. */
  compactRecords: number;
  wholeRecords: number;
}

/** A server and two devices; with `legacy` the records header is dropped before the server sees it. */
async function world(legacy: boolean, start: number): Promise<World> {
  const counts = { compactRecords: 0, wholeRecords: 0 };
  const fetchFn: typeof fetch = async (input, init) => {
    const headers = { ...(init?.headers as Record<string, string>) };
    if (legacy) delete headers[RECORDS_HEADER];
    const response = await fetch(input, { ...init, headers });
    if (String(input).includes('/v1/pull?') && response.ok) {
      const body = (await response.clone().json()) as { changes: object[] };
      for (const record of body.changes) {
        if ('fieldHlcs' in record) counts.wholeRecords++;
        else counts.compactRecords++;
      }
    }
    return response;
  };
  const devices = await openWorld({ start, fetch: fetchFn, pageSize: 2, devices: { writer: 1, reader: 2 } });
  return Object.assign(counts, devices);
}

/** The same script in a world: records of every shape, pulled page by page. */
async function script(w: World) {
  const { writer, reader } = w;
  const results = [];
  const states = [];
  const track = (
    device: Device,
    type: string,
    id: string,
    operation: 'CREATE' | 'UPDATE' | 'DELETE',
    data: object | null,
  ) => device.tracker.trackChange(type, id, operation, data as never);
  for (let i = 1; i <= 7; i++)
    await track(writer, 'todos', `t${i}`, 'CREATE', { title: `todo ${i}`, completed: i % 2 === 0 });
  // Free-form notes: fields out of alphabetical order, nested keys that reorder or need escaping.
  await track(writer, 'notes', 'n1', 'CREATE', { b: 1, a: 'x', $z: [2], n: { '10': 1, '2': 'é', 'say "hi"': null } });
  await track(writer, 'notes', 'n2', 'CREATE', {});
  await writer.manager.pushChanges();
  results.push(await reader.manager.pullChanges());
  states.push(dump(reader.path));
  // Whole updates, partial updates (fields at different stamps), deletes; and a concurrent edit
  // pending on the reader (a conflict its resolver settles).
  await track(reader, 'todos', 't3', 'UPDATE', { title: 'reader three' });
  await track(writer, 'todos', 't3', 'UPDATE', { title: 'writer three', completed: true });
  await track(writer, 'todos', 't1', 'UPDATE', { title: 'one, again', completed: false });
  await track(writer, 'todos', 't2', 'UPDATE', { completed: false });
  await track(writer, 'todos', 't4', 'DELETE', null);
  await track(writer, 'notes', 'n1', 'UPDATE', { b: 2 });
  await track(writer, 'todos', 't8', 'CREATE', { title: 'eight', completed: false });
  await writer.manager.pushChanges();
  results.push(await reader.manager.pullChanges());
  states.push(dump(reader.path));
  results.push(await reader.manager.pushChanges());
  results.push(await writer.manager.pullChanges());
  states.push(dump(reader.path), dump(writer.path));
  return { results, states };
}

describe('compact pulled records', () => {
  it('leave a device in exactly the state whole records leave it in', async () => {
    const start = Date.now() - 60_000;
    const compact = await world(false, start);
    const whole = await world(true, start);

    const compactRun = await script(compact);
    const wholeRun = await script(whole);

    expectIdenticalRuns(compactRun, wholeRun, 4);
    // Not vacuous: the compact world got compact records on its GET pages (every create and
    // whole update), and whole ones where the stamps differ (partial updates, tombstones);
    // the other world only whole records.
    expect(compact.compactRecords).toBeGreaterThanOrEqual(8);
    expect(compact.wholeRecords).toBeGreaterThanOrEqual(2);
    expect(whole.compactRecords).toBe(0);
    expect(whole.wholeRecords).toBe(compact.compactRecords + compact.wholeRecords);
    // And the script reached a conflict on the reader.
    expect(compactRun.results[1]).toMatchObject({ conflicts: 1 });
  });
});
