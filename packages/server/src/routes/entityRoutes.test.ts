import { ServerRecordSchema } from '@ferry/protocol';
import * as v from 'valibot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeChange, pushBody, startTestServer, type TestServer } from '../testing/testServer.js';

let t: TestServer;
beforeEach(async () => {
  t = await startTestServer();
});
afterEach(async () => {
  await t.close();
});

describe('REST entity routes', () => {
  it('creates with the body id, lists, patches and deletes, all visible in pull', async () => {
    const created = await t.call('POST', '/v1/entities/todos', {
      body: { id: 'milk', title: 'Buy milk', completed: false },
    });
    expect(created.statusCode).toBe(201);
    const record = v.parse(ServerRecordSchema, created.json());
    expect(record).toMatchObject({
      entityId: 'milk',
      // `id` named the entity; it is not one of its fields.
      data: { title: 'Buy milk', completed: false },
      version: 1,
      // The server's component starts at the write's wall time: it never goes back (see applyServerWrite).
      vector: { server: expect.any(Number) },
      clientId: 'server',
      seq: 1,
    });
    expect(record.vector.server).toBeGreaterThan(1_000_000);
    expect(record.changeId).toMatch(/^srv-[0-9a-f-]{36}$/);

    const patched = await t.call('PUT', '/v1/entities/todos/milk', { body: { completed: true } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({
      data: { title: 'Buy milk', completed: true },
      version: 2,
      vector: { server: expect.any(Number) },
    });
    expect(patched.json().vector.server).toBeGreaterThan(record.vector.server as number);

    const list = await t.call('GET', '/v1/entities/todos');
    expect(list.json()).toEqual({ records: [patched.json()], hasMore: false });

    const deleted = await t.call('DELETE', '/v1/entities/todos/milk', {
      headers: { 'content-type': 'application/json' },
    });
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    expect((await t.call('GET', '/v1/entities/todos')).json()).toEqual({ records: [], hasMore: false });

    const pulled = (await t.call('GET', '/v1/pull')).json();
    expect(pulled.changes).toEqual([expect.objectContaining({ entityId: 'milk', deleted: true, seq: 3, version: 3 })]);
    const log = (await t.call('GET', '/v1/changes')).json();
    expect(log.changes.map((change: { operation: string }) => change.operation)).toEqual([
      'CREATE',
      'UPDATE',
      'DELETE',
    ]);
  });

  it('answers 409 to a create of a live id and keeps the record; a deleted id may be created again', async () => {
    const first = await t.call('POST', '/v1/entities/todos', {
      body: { id: 'milk', title: 'Buy milk', completed: true },
    });
    expect(first.statusCode).toBe(201);
    const hash = t.hashDb();
    const again = await t.call('POST', '/v1/entities/todos', { body: { id: 'milk', title: 'replaced' } });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({
      error: { code: 'CONFLICT', message: expect.stringMatching(/"milk" already exists/), retryable: false },
    });
    expect(t.hashDb()).toBe(hash);
    expect((await t.call('GET', '/v1/entities/todos')).json().records).toEqual([first.json()]);

    await t.call('DELETE', '/v1/entities/todos/milk');
    const revived = await t.call('POST', '/v1/entities/todos', { body: { id: 'milk', title: 'Oat milk' } });
    expect(revived.statusCode).toBe(201);
    expect(revived.json()).toMatchObject({ entityId: 'milk', data: { title: 'Oat milk' }, deleted: false, version: 3 });
  });

  it('accepts the record sent back whole to PUT, id included, and never stores the id as a field', async () => {
    const created = (await t.call('POST', '/v1/entities/todos', { body: { id: 'milk', title: 'Buy milk' } })).json();
    const updated = await t.call('PUT', '/v1/entities/todos/milk', {
      body: { id: 'milk', title: 'Buy oat milk', completed: false },
    });
    expect(updated.statusCode).toBe(200);
    expect(updated.json().data).toEqual({ title: 'Buy oat milk', completed: false });
    expect(created.data).toEqual({ title: 'Buy milk' });
    const pulled = (await t.call('GET', '/v1/pull')).json();
    expect(pulled.changes[0].data).not.toHaveProperty('id');
    expect(pulled.changes[0].fieldHlcs).not.toHaveProperty('id');
  });

  it('generates a uuid when the body has no id', async () => {
    const created = await t.call('POST', '/v1/entities/notes', { body: { body: 'hello' } });
    expect(created.json().entityId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-/);
  });

  it('writes over a device edit without a conflict, and the device then sees a conflict', async () => {
    await t.call('POST', '/v1/push', { body: pushBody([makeChange({ entityId: 't1', data: { title: 'device' } })]) });
    const patched = await t.call('PUT', '/v1/entities/todos/t1', { body: { title: 'admin' } });
    expect(patched.json()).toMatchObject({
      vector: { 'device-a': 1, server: expect.any(Number) },
      data: { title: 'admin' },
    });
    const stale = await t.call('POST', '/v1/push', {
      body: pushBody([
        makeChange({ entityId: 't1', operation: 'UPDATE', data: { title: 'x' }, vector: { 'device-a': 2 } }),
      ]),
    });
    expect(stale.json().results[0]).toMatchObject({ status: 'conflict', record: { data: { title: 'admin' } } });
  });

  it('pages the list with after and limit', async () => {
    for (const id of ['c', 'a', 'b']) await t.call('POST', '/v1/entities/notes', { body: { id } });
    const first = (await t.call('GET', '/v1/entities/notes?limit=2')).json();
    expect(first.records.map((record: { entityId: string }) => record.entityId)).toEqual(['a', 'b']);
    expect(first.hasMore).toBe(true);
    const rest = (await t.call('GET', '/v1/entities/notes?after=b&limit=2')).json();
    expect(rest.records.map((record: { entityId: string }) => record.entityId)).toEqual(['c']);
  });

  it("never shows or touches another user's records", async () => {
    await t.call('POST', '/v1/entities/todos', { as: 'alice', body: { id: 'mine', title: 'alice' } });
    expect((await t.call('GET', '/v1/entities/todos', { as: 'bob' })).json().records).toEqual([]);
    const bobCreate = await t.call('POST', '/v1/entities/todos', { as: 'bob', body: { id: 'mine', title: 'bob' } });
    expect(bobCreate.json()).toMatchObject({ version: 1, seq: 1 });
    const alice = (await t.call('GET', '/v1/entities/todos', { as: 'alice' })).json().records;
    expect(alice).toEqual([expect.objectContaining({ entityId: 'mine', data: { title: 'alice' } })]);
  });

  it('accepts entity ids of 256 characters with URL-encoded characters', async () => {
    const id = `é/${'x'.repeat(254)}`;
    await t.call('POST', '/v1/entities/notes', { body: { id } });
    const response = await t.call('PUT', `/v1/entities/notes/${encodeURIComponent(id)}`, { body: { text: 'ok' } });
    expect(response.statusCode).toBe(200);
    expect(response.json().entityId).toBe(id);
  });
});
