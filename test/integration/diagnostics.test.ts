import { type Change, PROTOCOL_VERSION } from '@ferry/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness.js';

/**
 * `sync.diagnostics()`: a snapshot a user can attach to a bug report. It must say what is
 * going on (outbox, conflicts, dead letters, errors, cursors, versions, settings) and must
 * never carry a record's contents or a token. Real server on 127.0.0.1, real SQLite stores.
 */
const CONTENT = 'platypus-9931';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

describe('sync.diagnostics()', () => {
  it('summarises outbox, parked conflicts, dead letters, cursors and errors without contents or tokens', async () => {
    const token = await h.token('alice');
    const config = {
      remoteAPI: undefined,
      apiBaseUrl: `${h.url}/`,
      getToken: () => token,
      appVersion: '5.0.0',
      conflictStrategy: 'manual' as const,
    };
    const phone = await h.device('phone', { config });
    const tablet = await h.device('tablet', { config });
    await phone.system.collection('todo').insert({ id: 'typo', title: CONTENT });
    await phone.system.collection('todos').insert({ id: 'shared', title: CONTENT });
    await phone.system.sync();
    await tablet.system.sync();
    // Both edit the same todo; the tablet's push then meets the phone's edit and parks a conflict.
    await phone.system.collection('todos').update('shared', { title: `${CONTENT} phone` });
    await tablet.system.collection('todos').update('shared', { title: `${CONTENT} tablet` });
    await phone.system.sync();
    await tablet.system.sync();
    expect(await tablet.system.listConflicts()).toHaveLength(1);
    // Unsynced writes on the phone.
    await phone.system.collection('todos').insert({ title: CONTENT });
    await phone.system.collection('todos').insert({ title: CONTENT });
    await phone.system.collection('notes').insert({ body: CONTENT });
    await phone.system.collection('todos').update('shared', { completed: true });

    const report = await phone.system.diagnostics();
    expect(report).toMatchObject({
      clientId: 'phone',
      versions: { sdk: '0.1.0', protocol: PROTOCOL_VERSION, app: '5.0.0' },
      driver: 'better-sqlite3',
      outbox: { total: 4, byType: { todos: { CREATE: 2, UPDATE: 1 }, notes: { CREATE: 1 } } },
      conflicts: { parked: 0 },
      deadLetters: [{ entityType: 'todo', operation: 'CREATE', code: 'UNKNOWN_ENTITY_TYPE' }],
      cursors: { private: await h.server.storage.currentSeq('alice') },
      settings: { server: h.url, conflictStrategy: 'manual' },
    });
    expect(report.deadLetters[0]?.message).toMatch(/"todo" is not declared/);
    const tabletReport = await tablet.system.diagnostics();
    expect(tabletReport.conflicts).toEqual({ parked: 1, byType: { todos: 1 } });

    const text = JSON.stringify([report, tabletReport]);
    expect(text).not.toContain(CONTENT);
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.split('.')[2] as string);
  });

  it("keeps the server's reason for a rejected change without the value it quotes", async () => {
    const token = await h.token('alice');
    const phone = await h.device('phone', {
      config: { remoteAPI: undefined, apiBaseUrl: `${h.url}/`, getToken: () => token },
    });
    await phone.system.collection('todos').insert({ id: 'kept', title: 'x' });
    const [change] = await phone.system.changeTracker.getPendingChanges();
    // The SDK never builds a change like this one, but a message the server words for one quotes
    // the value it was sent: ask the real server for that message.
    const response = await fetch(`${h.url}/v1/push`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'ferry-protocol': String(PROTOCOL_VERSION),
      },
      body: JSON.stringify({ clientId: 'phone', changes: [{ ...change, timestamp: CONTENT }] }),
      signal: AbortSignal.timeout(5000),
    });
    const body = (await response.json()) as {
      error?: { message: string };
      results?: Array<{ error?: { message: string } }>;
    };
    const message = body.error?.message ?? body.results?.[0]?.error?.message ?? '';
    expect(message).toContain(CONTENT);
    await phone.system.localStore.write((tx) =>
      tx.addDeadLetter(change as Change, { code: 'VALIDATION_ERROR', message }, Date.now()),
    );

    const report = await phone.system.diagnostics();
    expect(report.deadLetters[0]).toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(report.deadLetters[0]?.message).toMatch(/timestamp.*received …/);
    expect(JSON.stringify(report)).not.toContain(CONTENT);
  });

  it('lists the last errors when the server cannot be reached, still without the token', async () => {
    const token = await h.token('alice');
    const phone = await h.device('phone', {
      config: { remoteAPI: undefined, apiBaseUrl: 'http://127.0.0.1:9/', getToken: () => token, timeoutMs: 2000 },
    });
    await phone.system.collection('todos').insert({ title: CONTENT });
    await expect(phone.system.sync()).rejects.toThrow();
    const report = await phone.system.diagnostics();
    expect(report.lastErrors.at(-1)).toMatchObject({ code: 'NETWORK_ERROR' });
    expect(report.outbox.total).toBe(1);
    expect(JSON.stringify(report)).not.toContain(token);
  });
});
