import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness.js';

/**
 * A change of an entity type the server does not declare (a typo: `todo` for `todos`) must not
 * wedge the device: the server rejects that change alone, the client dead-letters it, and the
 * valid changes behind it — and every later one — still reach the server and other devices.
 * Real server on 127.0.0.1, real client stores on SQLite files.
 */
let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

async function serverLog(user = 'alice'): Promise<string[]> {
  const page = await h.server.storage.changesSince(user, { since: 0, limit: 1000 });
  return page.items.map((change) => `${change.entityType}/${change.entityId}`);
}

describe('a change of an undeclared entity type', () => {
  it('is dead-lettered alone while the valid changes behind it sync, and the device keeps moving', async () => {
    const phone = await h.device('phone');
    const tablet = await h.device('tablet');
    // Written before the device ever talked to the server, so nothing could tell it the types.
    await phone.system.collection('todo').insert({ id: 'typo', title: 'in the wrong box' });
    await phone.system.collection('todos').insert({ id: 'milk', title: 'Buy milk' });
    await phone.system.collection('notes').insert({ id: 'n1', text: 'call the plumber' });
    await phone.system.collection('todos').insert({ id: 'bread', title: 'Buy bread' });
    const [typo] = await phone.system.changeTracker.getPendingChanges();
    expect(typo?.entityType).toBe('todo');

    await phone.system.forceSync();
    const dead = await phone.system.listDeadLetters();
    expect(dead.map((entry) => [entry.change.id, entry.error.code])).toEqual([[typo?.id, 'UNKNOWN_ENTITY_TYPE']]);
    expect(dead[0]?.error.message).toMatch(/"todo" is not declared/);
    expect(await phone.system.changeTracker.getPendingChanges()).toEqual([]);
    expect(await serverLog()).toEqual(['todos/milk', 'notes/n1', 'todos/bread']);

    await tablet.system.forceSync();
    expect((await tablet.todos()).map((todo) => todo.id)).toEqual(['bread', 'milk']);

    // Not wedged: a later write goes out with the next sync, and the dead letter stays put.
    await phone.system.collection('todos').insert({ id: 'eggs', title: 'Buy eggs' });
    await phone.system.forceSync();
    expect(await serverLog()).toEqual(['todos/milk', 'notes/n1', 'todos/bread', 'todos/eggs']);
    expect((await phone.system.listDeadLetters()).map((entry) => entry.change.id)).toEqual([typo?.id]);
  });
});
