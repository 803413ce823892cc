import { join } from 'node:path';
import { encodeHlc, PROTOCOL_HEADER, PROTOCOL_VERSION, type PushResponse } from '@ferry/protocol';
import { signDevToken } from '@ferry/server';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Prng } from '../../sim/prng.js';
import { freePort } from '../support/freePort.js';
import { processTestBench, spawnServe } from '../support/serveProcess.js';

/**
 * A `ferry serve` process SIGKILLed while it commits pushes of several clients in groups (one
 * transaction and one fsync for the pushes that arrived together). Each client records what the
 * server acknowledged; after every kill the database file must hold every acknowledged change at
 * the seq it was acknowledged with, each scope's sequence gap-free, and nothing lost that a
 * client was told was applied. The change a client had in flight when the server died is sent
 * again first after the restart, as a device's outbox would, and must come back applied or
 * duplicate (never twice in the log).
 */
const SECRET = 'group-commit-crash-secret-long-enough-for-hs256';
const ADMIN_TOKEN = 'group-commit-crash-admin-token-0123456789';
const SEED = 18;
/** Users, and devices per user: two devices of one user push into the same scope at the same time. */
const USERS = 4;
const DEVICES_PER_USER = 2;
const ENTITIES = 4;
const ROUNDS = 3;
const REQUEST_TIMEOUT_MS = 10_000;

const { children, dir: testDir } = processTestBench('ferry-group-crash-');

interface SentChange {
  id: string;
  entityId: string;
  version: number;
}

/** A protocol-level device: its own entities, versions strictly increasing, one push in flight. */
interface Device {
  user: string;
  clientId: string;
  token: string;
  versions: number[];
  writes: number;
  /** The push whose answer never came (the server died): sent again before anything new. */
  unanswered: SentChange[] | null;
  /** change id → the seq the server answered `applied` with. */
  applied: Map<string, number>;
  /** Every change id the server acknowledged (applied or duplicate). */
  acked: Set<string>;
  /** entity id → highest version acknowledged. */
  ackedVersions: Map<string, number>;
}

function nextChanges(device: Device, count: number): SentChange[] {
  return Array.from({ length: count }, () => {
    const entity = device.writes % ENTITIES;
    device.writes += 1;
    const version = (device.versions[entity] ?? 0) + 1;
    device.versions[entity] = version;
    return { id: `${device.clientId}.${device.writes}`, entityId: `${device.clientId}-e${entity}`, version };
  });
}

function body(device: Device, changes: SentChange[]): string {
  return JSON.stringify({
    clientId: device.clientId,
    changes: changes.map((change) => ({
      id: change.id,
      entityType: 'todos',
      entityId: change.entityId,
      operation: change.version === 1 ? 'CREATE' : 'UPDATE',
      data: { title: `${change.entityId} v${change.version}` },
      timestamp: 1_732_550_000_000 + change.version,
      hlc: encodeHlc({ wallTime: 1_732_550_000_000 + change.version, counter: 0, node: device.clientId }),
      version: change.version,
      vector: { [device.clientId]: change.version },
      clientId: device.clientId,
    })),
  });
}

/** Pushes `changes`; true when answered (every result applied or duplicate), false when the server is gone. */
async function push(url: string, device: Device, changes: SentChange[]): Promise<boolean> {
  let reply: PushResponse;
  try {
    const response = await fetch(`${url}/v1/push`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${device.token}`,
        [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
        'content-type': 'application/json',
      },
      body: body(device, changes),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (response.status !== 200) throw new Error(`push answered ${response.status}: ${await response.text()}`);
    reply = (await response.json()) as PushResponse;
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('push answered')) throw error;
    return false;
  }
  changes.forEach((change, index) => {
    const result = reply.results[index];
    expect(result?.changeId).toBe(change.id);
    expect(['applied', 'duplicate'], `${change.id}: ${JSON.stringify(result)}`).toContain(result?.status);
    if (result?.status === 'applied') device.applied.set(change.id, result.record?.seq ?? -1);
    device.acked.add(change.id);
    device.ackedVersions.set(change.entityId, Math.max(device.ackedVersions.get(change.entityId) ?? 0, change.version));
  });
  return true;
}

/** What the database file holds, read with the server down (opening it recovers the WAL as a restart would). */
function expectDurable(dbPath: string, devices: Device[]): void {
  const db = new Database(dbPath);
  try {
    const log = db.prepare<[string], { change_id: string; seq: number }>(
      'SELECT change_id, seq FROM change_log WHERE scope = ? ORDER BY seq',
    );
    const counter = db.prepare<[string], { seq: number }>('SELECT seq FROM scopes WHERE scope = ?');
    const record = db.prepare<[string, string], { version: number }>(
      "SELECT version FROM records WHERE scope = ? AND entity_type = 'todos' AND entity_id = ?",
    );
    for (let user = 0; user < USERS; user++) {
      const scope = `user-${user}`;
      const rows = log.all(scope);
      // Gap-free: seqs 1..n, and the scope's counter at n.
      expect(
        rows.map((row) => row.seq),
        `${scope} seqs`,
      ).toEqual(rows.map((_, index) => index + 1));
      expect(counter.get(scope)?.seq ?? 0, `${scope} counter`).toBe(rows.length);
      const logged = new Map(rows.map((row) => [row.change_id, row.seq]));
      expect(logged.size, `${scope}: a change id twice in the log`).toBe(rows.length);
      for (const device of devices.filter((d) => d.user === scope)) {
        for (const [id, seq] of device.applied) expect(logged.get(id), `acknowledged ${id} at seq ${seq}`).toBe(seq);
        for (const id of device.acked) expect(logged.has(id), `acknowledged ${id}`).toBe(true);
        for (const [entityId, version] of device.ackedVersions) {
          expect(record.get(scope, entityId)?.version ?? 0, `${entityId} version`).toBeGreaterThanOrEqual(version);
        }
      }
    }
  } finally {
    db.close();
  }
}

/** Sum and count of `ferry_group_commit_size` scraped from the running server. */
async function groupCommits(url: string): Promise<{ pushes: number; commits: number }> {
  const response = await fetch(`${url}/metrics`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const lines = (await response.text()).split('\n');
  const value = (name: string) => Number(lines.find((line) => line.startsWith(`${name} `))?.split(' ')[1] ?? 0);
  return { pushes: value('ferry_group_commit_size_sum'), commits: value('ferry_group_commit_size_count') };
}

describe('group commit under SIGKILL', () => {
  it('a server killed during group commits loses no acknowledged push and acknowledges none it lost', async () => {
    const dbPath = join(testDir(), 'server.db');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const rng = new Prng(SEED);
    const devices: Device[] = [];
    for (let user = 0; user < USERS; user++) {
      const token = await signDevToken(SECRET, `user-${user}`, { expiresIn: '1h' });
      for (let device = 0; device < DEVICES_PER_USER; device++) {
        devices.push({
          user: `user-${user}`,
          clientId: `u${user}d${device}`,
          token,
          versions: [],
          writes: 0,
          unanswered: null,
          applied: new Map(),
          acked: new Set(),
          ackedVersions: new Map(),
        });
      }
    }
    const env = { FERRY_JWT_SECRET: SECRET, FERRY_ADMIN_TOKEN: ADMIN_TOKEN, FERRY_LOG_LEVEL: 'warn' };
    let grouped = 0;
    let killedUnderLoad = 0;
    for (let round = 0; round <= ROUNDS; round++) {
      const server = spawnServe(port, dbPath, { env, children });
      await server.ready;
      expect(server.child.exitCode, 'the server started').toBeNull();
      // The push that was in flight at the kill goes first, as a device's outbox would send it.
      await Promise.all(
        devices.map(async (device) => {
          if (device.unanswered && (await push(url, device, device.unanswered))) device.unanswered = null;
        }),
      );
      expect(devices.filter((device) => device.unanswered !== null)).toEqual([]);
      if (round === ROUNDS) {
        server.child.kill('SIGTERM');
        await server.exited;
        break;
      }
      // Every device pushes 1-3 changes at a time, all devices at the same moment (requests that
      // arrive together share a commit, on a fast machine too), burst after burst, until the
      // server dies after a drawn number of acknowledged pushes, with the rest of its burst in
      // flight (bounded: a slow machine only takes longer).
      const killAfter = rng.int(40, 160);
      const scrapeAt = Math.floor(killAfter / 2);
      let acks = 0;
      let dead = false;
      let scraped = false;
      const sizes = devices.map(() => rng.int(1, 3));
      for (let burst = 0; !dead && burst < 1000; burst++) {
        await Promise.all(
          devices.map(async (device, index) => {
            if (device.unanswered !== null) return;
            const changes = nextChanges(device, sizes[index] ?? 1);
            if (!(await push(url, device, changes))) {
              device.unanswered = changes;
              return;
            }
            acks += 1;
            if (acks === killAfter && server.child.kill('SIGKILL')) {
              dead = true;
              killedUnderLoad += 1;
            }
          }),
        );
        if (!dead && !scraped && acks >= scrapeAt) {
          scraped = true;
          const seen = await groupCommits(url).catch(() => ({ pushes: 0, commits: 0 }));
          if (seen.pushes > seen.commits) grouped += 1;
        }
      }
      // Only if no kill landed (every device failed first): the assertion below then says so.
      server.child.kill('SIGKILL');
      await server.exited;
      expectDurable(dbPath, devices);
    }
    expect(killedUnderLoad).toBe(ROUNDS);
    // Pushes did share commits (the metric counts pushes per durable commit).
    expect(grouped).toBeGreaterThan(0);
    expectDurable(dbPath, devices);
    const total = devices.reduce((sum, device) => sum + device.acked.size, 0);
    expect(total).toBe(devices.reduce((sum, device) => sum + device.writes, 0));
  }, 180_000);
});
