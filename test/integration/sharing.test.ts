import type { RemoteAPI, WebSocketFactory } from '@ferry/client';
import { liveUrlFrom } from '@ferry/client/engine';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Device, type Harness, startHarness, syncAll } from '../support/harness.js';

/**
 * Sharing end to end: a real server on 127.0.0.1, each device a full sync system on its own
 * SQLite file. Alice shares a list with Bob (editor) and Carol (viewer).
 */
let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

type Todo = { title: string; completed: boolean };

/** Polls `check` every 20 ms until it holds; fails after 5 s (a bounded loop). */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('condition not met within 5 s');
}
const todos = (device: Device) => device.system.collection<Todo>('todos');
const titles = async (device: Device, space: string | null) =>
  (await todos(device).find({ space, orderBy: 'title' })).map((todo) => todo.title);

/** Alice's shared list with Bob as editor and Carol as viewer, synced to all three. */
async function sharedList() {
  const alice = await h.device('alice-phone', { user: 'alice' });
  const bob = await h.device('bob-phone', { user: 'bob' });
  const carol = await h.device('carol-phone', { user: 'carol' });
  await todos(alice).insert({ title: 'alice private', completed: false });
  await todos(bob).insert({ title: 'bob private', completed: false });
  const { id } = await alice.system.spaces.create({ name: 'Groceries' });
  await alice.system.spaces.addMember(id, 'bob', 'editor');
  await alice.system.spaces.addMember(id, 'carol', 'viewer');
  await todos(alice).insert({ title: 'milk', completed: false }, { space: id });
  await alice.system.forceSync();
  await bob.system.forceSync();
  await carol.system.forceSync();
  return { alice, bob, carol, space: id };
}

describe('sharing through spaces', () => {
  it('creates a space offline; the owner sees it pending, then as owner once synced', async () => {
    const alice = await h.device('alice-phone', { user: 'alice' });
    const { id } = await alice.system.spaces.create({ name: 'Trip' });
    expect(id).toMatch(/^sp_/);
    expect(await alice.system.spaces.list()).toEqual([{ id, name: 'Trip', role: 'owner', pending: true }]);
    await alice.system.forceSync();
    expect(await alice.system.spaces.list()).toEqual([{ id, name: 'Trip', role: 'owner', pending: false }]);
    expect(await alice.system.spaces.members(id)).toEqual([{ userId: 'alice', role: 'owner' }]);
  });

  it('announces a membership change to listeners once, and an idle sync not at all', async () => {
    const alice = await h.device('alice-phone', { user: 'alice' });
    const lists: string[][] = [];
    const stop = alice.system.spaces.subscribe((spaces) => lists.push(spaces.map((s) => `${s.name}:${s.pending}`)));
    let spaceEvents = 0;
    const unsubscribe = alice.system.localStore.subscribe((event) => {
      if (event.entityTypes.has('$space')) spaceEvents++;
    });
    await until(async () => lists.length === 1);
    await alice.system.spaces.create({ name: 'Trip' });
    await alice.system.forceSync();
    await until(async () => lists.length === 3).catch((error) => {
      throw new Error(`${error}: ${JSON.stringify(lists)}`);
    });
    expect(lists).toEqual([[], ['Trip:true'], ['Trip:false']]);
    const before = spaceEvents;
    await alice.system.forceSync();
    await alice.system.forceSync();
    expect(spaceEvents).toBe(before);
    stop();
    unsubscribe();
  });

  it("shares with an editor and a viewer: both read it, the editor's edits reach the owner", async () => {
    const { alice, bob, carol, space } = await sharedList();
    expect((await bob.system.spaces.list()).map(({ id, role }) => ({ id, role }))).toEqual([
      { id: space, role: 'editor' },
    ]);
    expect(await titles(bob, space)).toEqual(['milk']);
    expect(await titles(carol, space)).toEqual(['milk']);
    // Private spaces stay private.
    expect(await titles(bob, null)).toEqual(['bob private']);
    expect(await titles(carol, null)).toEqual([]);
    const milk = (await todos(bob).find({ space }))[0];
    expect(milk?.space).toBe(space);
    expect(await bob.system.spaces.members(space)).toEqual([
      { userId: 'alice', role: 'owner' },
      { userId: 'bob', role: 'editor' },
      { userId: 'carol', role: 'viewer' },
    ]);

    await todos(bob).update(milk?.id as string, { title: 'oat milk' });
    await todos(bob).insert({ title: 'bread', completed: false }, { space });
    await bob.system.forceSync();
    await alice.system.forceSync();
    expect(await titles(alice, space)).toEqual(['bread', 'oat milk']);
    expect(await titles(alice, null)).toEqual(['alice private']);
    expect(await bob.system.listDeadLetters()).toEqual([]);
  });

  it("dead-letters a viewer's write with FORBIDDEN and keeps the rest of the outbox moving", async () => {
    const { alice, carol, space } = await sharedList();
    const milk = (await todos(carol).find({ space }))[0];
    await todos(carol).update(milk?.id as string, { title: 'candy' });
    await todos(carol).insert({ title: 'carol private', completed: false });
    await carol.system.forceSync().catch(() => undefined);
    const dead = await carol.system.listDeadLetters();
    expect(dead.map((letter) => [letter.change.entityType, letter.change.space, letter.error.code])).toEqual([
      ['todos', space, 'FORBIDDEN'],
    ]);
    await alice.system.forceSync();
    expect(await titles(alice, space)).toEqual(['milk']);
    // Carol's device holds the server's state again, not her refused edit.
    expect(await titles(carol, space)).toEqual(['milk']);
    // The private write behind it went through.
    const other = await h.device('carol-tablet', { user: 'carol' });
    await other.system.forceSync();
    expect(await titles(other, null)).toEqual(['carol private']);
  });

  it('pullTypes applies in shared spaces: only those types, with the space and its members; more types later backfill', async () => {
    const { alice, space } = await sharedList();
    await alice.system.collection('notes').insert({ text: 'shop on Friday' }, { space });
    await alice.system.forceSync();
    const notesOnly = await h.device('bob-watch', { user: 'bob', config: { pullTypes: ['notes'] } });
    await notesOnly.system.forceSync();
    expect(await titles(notesOnly, space)).toEqual([]);
    const notes = await notesOnly.system.collection('notes').find({ space });
    expect(notes.map((note) => note.text)).toEqual(['shop on Friday']);
    expect(await notesOnly.system.spaces.list()).toEqual([
      { id: space, name: 'Groceries', role: 'editor', pending: false },
    ]);
    expect((await notesOnly.system.spaces.members(space)).map((member) => member.userId)).toEqual([
      'alice',
      'bob',
      'carol',
    ]);
    // Its own private space is filtered the same way.
    expect(await titles(notesOnly, null)).toEqual([]);
    // The same device, now pulling every type: the space's todos come, not skipped behind the notes' cursor.
    await notesOnly.close();
    const everything = await h.device('bob-watch', { user: 'bob' });
    await everything.system.forceSync();
    expect(await titles(everything, space)).toEqual(['milk']);
    expect(await titles(everything, null)).toEqual(['bob private']);
  });

  it('a device pulling other types than before keeps no record the server deleted and forgot, private or shared', async () => {
    const alice = await h.device('alice-phone', { user: 'alice' });
    const { id: space } = await alice.system.spaces.create({ name: 'Groceries' });
    await alice.system.spaces.addMember(space, 'bob', 'editor');
    const { id: milk } = await todos(alice).insert({ title: 'milk', completed: false }, { space });
    await todos(alice).insert({ title: 'eggs', completed: false }, { space });
    await alice.system.forceSync();
    const phone = await h.device('bob-phone', { user: 'bob' });
    const { id: mine } = await todos(phone).insert({ title: 'bob private', completed: false });
    await todos(phone).insert({ title: 'bob other', completed: false });
    await phone.system.forceSync();
    expect(await titles(phone, space)).toEqual(['eggs', 'milk']);
    await phone.close();
    // While the phone is closed, both deletions happen and their tombstones are compacted away.
    const laptop = await h.device('bob-laptop', { user: 'bob' });
    await laptop.system.forceSync();
    await todos(laptop).delete(mine);
    await laptop.system.forceSync();
    await todos(alice).delete(milk);
    await alice.system.forceSync();
    await h.server.storage.compact({ tombstonesBefore: Date.now() + 1 });
    // The phone comes back pulling other types: its reads from 0 do not name the deleted records.
    const reopened = await h.device('bob-phone', { user: 'bob', config: { pullTypes: ['notes', 'todos'] } });
    await reopened.system.forceSync();
    expect(await titles(reopened, space)).toEqual(['eggs']);
    expect(await titles(reopened, null)).toEqual(['bob other']);
  });

  it('a space read again from 0 keeps no record written into it since it was dropped that the server deleted and forgot', async () => {
    const { alice, bob, space } = await sharedList();
    // Bob, made a viewer, edits: the refusal drops the space on his phone, to be read again from 0.
    await alice.system.spaces.addMember(space, 'bob', 'viewer');
    await alice.system.forceSync();
    const [milk] = await todos(bob).find({ space });
    await todos(bob).update(milk!.id, { title: 'candy' });
    await bob.system.syncManager.pushChanges();
    expect((await bob.system.listDeadLetters()).map((letter) => letter.error.code)).toEqual(['FORBIDDEN']);
    // An editor again, he writes into the space before his phone reads it again.
    await alice.system.spaces.addMember(space, 'bob', 'editor');
    await alice.system.forceSync();
    const { id: bread } = await todos(bob).insert({ title: 'bread', completed: false }, { space });
    await bob.system.syncManager.pushChanges();
    // Alice deletes it, and compaction forgets the tombstone before Bob's phone pulls.
    await alice.system.forceSync();
    expect(await titles(alice, space)).toEqual(['bread', 'milk']);
    await todos(alice).delete(bread);
    await alice.system.forceSync();
    await h.server.storage.compact({ tombstonesBefore: Date.now() + 1 });
    // The read from 0 does not name bread: it must not stay on the phone for good.
    await bob.system.forceSync();
    expect(await titles(bob, space)).toEqual(['milk']);
  });

  it('a device that stops pulling a type still pushes the writes it queued to it, private and shared, and keeps them', async () => {
    const { alice, bob, space } = await sharedList();
    const notes = (device: Device) => device.system.collection<{ text: string }>('notes');
    // Written while the phone pulled every type, still queued when the app closes.
    const { id: mine } = await notes(bob).insert({ text: 'call mum' });
    await notes(bob).insert({ text: 'shop on Friday' }, { space });
    await bob.close();
    // The app's next version pulls todos only: the space is read again from 0 under the new types.
    const phone = await h.device('bob-phone', { user: 'bob', config: { pullTypes: ['todos'] } });
    await phone.system.forceSync();
    expect(await phone.system.changeTracker.getPendingChanges()).toEqual([]);
    expect(await phone.system.listDeadLetters()).toEqual([]);
    // Both reached the server: Bob's other device and Alice see them.
    const laptop = await h.device('bob-laptop', { user: 'bob' });
    await laptop.system.forceSync();
    expect((await notes(laptop).find({ space: null })).map((note) => note.text)).toEqual(['call mum']);
    await alice.system.forceSync();
    expect((await notes(alice).find({ space })).map((note) => note.text)).toEqual(['shop on Friday']);
    // The phone keeps its private note as it wrote it (nothing refreshes or sweeps a type it does
    // not pull), and syncs the type it pulls. The space was read again under the new types, so
    // whether it still holds the shared note depends on whether the push went first: not checked.
    expect(await notes(phone).get(mine)).toMatchObject({ text: 'call mum' });
    expect(await titles(phone, space)).toEqual(['milk']);
    expect(await titles(phone, null)).toEqual(['bob private']);
  });

  it('refuses the last owner leaving while others remain: a FORBIDDEN dead letter, the space kept', async () => {
    const { alice, bob, space } = await sharedList();
    await alice.system.spaces.leave(space);
    await alice.system.forceSync().catch(() => undefined);
    const dead = await alice.system.listDeadLetters();
    expect(dead.map((letter) => [letter.change.entityType, letter.error.code])).toEqual([['$member', 'FORBIDDEN']]);
    expect(dead[0]?.error.message).toMatch(/last owner/);
    await alice.system.forceSync();
    expect(await alice.system.spaces.list()).toEqual([{ id: space, name: 'Groceries', role: 'owner', pending: false }]);
    expect(await titles(alice, space)).toEqual(['milk']);
    // Her device holds the server's membership again, her own entry included.
    expect(await alice.system.spaces.members(space)).toContainEqual({ userId: 'alice', role: 'owner' });
    // Once bob is an owner too, she may leave.
    await alice.system.spaces.addMember(space, 'bob', 'owner');
    await alice.system.spaces.leave(space);
    await alice.system.forceSync();
    expect(await alice.system.spaces.list()).toEqual([]);
    await bob.system.forceSync();
    expect(await bob.system.spaces.members(space)).toEqual([
      { userId: 'bob', role: 'owner' },
      { userId: 'carol', role: 'viewer' },
    ]);
  });

  it("a viewer's refused write after compaction leaves no record the server deleted", async () => {
    const { alice, carol, space } = await sharedList();
    const { id: bread } = await todos(alice).insert({ title: 'bread', completed: false }, { space });
    await alice.system.forceSync();
    await carol.system.forceSync();
    expect(await titles(carol, space)).toEqual(['bread', 'milk']);
    await todos(alice).delete(bread);
    await alice.system.forceSync();
    await h.server.storage.compact({ tombstonesBefore: Date.now() + 1 });
    // Carol's edit is refused; the space is read again from 0, where bread's tombstone is gone.
    const milk = (await todos(carol).find({ space })).find((todo) => todo.title === 'milk');
    await todos(carol).update(milk!.id, { title: 'candy' });
    await carol.system.forceSync().catch(() => undefined);
    await carol.system.forceSync();
    expect(await titles(carol, space)).toEqual(['milk']);
    expect((await carol.system.listDeadLetters()).map((letter) => letter.error.code)).toEqual(['FORBIDDEN']);
  });

  it('removing a member purges the space from their device and dead-letters their pending writes there', async () => {
    const { alice, bob, space } = await sharedList();
    await todos(bob).insert({ title: 'written offline', completed: false }, { space });
    await todos(bob).insert({ title: 'bob private 2', completed: false });
    await alice.system.spaces.removeMember(space, 'bob');
    await alice.system.forceSync();
    // A pull alone: the device learns of the revocation before it pushes the queued write.
    await bob.system.syncManager.pullChanges();
    expect(await titles(bob, space)).toEqual([]);
    expect(await bob.system.spaces.list()).toEqual([]);
    expect(await bob.system.spaces.members(space)).toEqual([]);
    const dead = await bob.system.listDeadLetters();
    expect(dead.map((letter) => [letter.change.data?.title, letter.error.code])).toEqual([
      ['written offline', 'FORBIDDEN'],
    ]);
    // His private data and private queue are untouched, and sync on.
    expect(await titles(bob, null)).toEqual(['bob private', 'bob private 2']);
    await bob.system.forceSync();
    expect(await bob.system.changeTracker.getPendingChanges()).toEqual([]);
    await alice.system.forceSync();
    expect(await titles(alice, space)).toEqual(['milk']);
  });

  it('a member who leaves loses the space on the next sync; the owner sees them gone', async () => {
    const { alice, carol, space } = await sharedList();
    await carol.system.spaces.leave(space);
    await carol.system.forceSync();
    expect(await carol.system.spaces.list()).toEqual([]);
    expect(await titles(carol, space)).toEqual([]);
    await alice.system.forceSync();
    expect((await alice.system.spaces.members(space)).map((member) => member.userId)).toEqual(['alice', 'bob']);
  });

  it('backfills a granted space from 0 in pages, without pulling the other spaces again', async () => {
    const { alice, space } = await sharedList();
    for (let i = 0; i < 60; i++)
      await todos(alice).insert({ title: `item ${String(i).padStart(2, '0')}`, completed: false }, { space });
    const { id: other } = await alice.system.spaces.create({ name: 'Other' });
    await alice.system.forceSync();
    const pages: Array<{ space: string | null; count: number }> = [];
    const counting = (api: RemoteAPI): RemoteAPI => {
      const pullSpaces: RemoteAPI['pullSpaces'] = async (request, options) => {
        const response = await api.pullSpaces!(request, options);
        for (const page of response.pages) pages.push({ space: page.space, count: page.changes.length });
        return response;
      };
      return new Proxy(api, {
        get(target, property) {
          if (property === 'pullSpaces') return pullSpaces;
          const value = Reflect.get(target, property, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    };
    const dave = await h.device('dave-phone', { user: 'dave', wrapApi: counting, config: { pageSize: 25 } });
    await alice.system.spaces.addMember(other, 'dave', 'viewer');
    await alice.system.forceSync();
    await dave.system.forceSync();
    expect((await dave.system.spaces.list()).map((s) => s.id)).toEqual([other]);
    pages.length = 0;

    await alice.system.spaces.addMember(space, 'dave', 'editor');
    await alice.system.forceSync();
    await dave.system.forceSync();
    expect((await todos(dave).find({ space })).length).toBe(61);
    // Pages of at most 25 records, all of the granted space: the other space is not pulled again.
    expect(pages.every((page) => page.space === space && page.count <= 25)).toBe(true);
    expect(pages.length).toBeGreaterThanOrEqual(3);
    // An idle pull afterwards moves nothing.
    pages.length = 0;
    await dave.system.forceSync();
    expect(pages).toEqual([]);
  });

  it('backfills a space whose history was compacted, in pages smaller than the space', async () => {
    const { alice, space } = await sharedList();
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      ids.push(
        (await todos(alice).insert({ title: `item ${String(i).padStart(2, '0')}`, completed: false }, { space })).id,
      );
    }
    await alice.system.forceSync();
    // Deletes late in the space's sequence, then compaction: the horizon is past most live records.
    for (const id of ids.slice(25)) await todos(alice).delete(id);
    await alice.system.forceSync();
    await h.server.storage.compact({ tombstonesBefore: Date.now() + 1 });
    await alice.system.spaces.addMember(space, 'dave', 'viewer');
    await alice.system.forceSync();
    const dave = await h.device('dave-phone', { user: 'dave', config: { pageSize: 7 } });
    await dave.system.forceSync();
    expect((await titles(dave, space)).length).toBe(26);
    expect(await titles(dave, space)).toEqual(await titles(alice, space));
  });

  it('a queued write whose row a space reset dropped comes back in its space when the push is answered', async () => {
    const { alice, bob, space } = await sharedList();
    // Queued on Bob's device, not pushed yet.
    await todos(bob).insert({ title: 'bread', completed: false }, { space });
    const { id: gone } = await todos(alice).insert({ title: 'gone', completed: false }, { space });
    await alice.system.forceSync();
    await todos(alice).delete(gone);
    await alice.system.forceSync();
    await h.server.storage.compact({ tombstonesBefore: Date.now() + 1 });
    // A pull alone: Bob's cursor of the space is below its horizon, the space resets (its rows
    // go, the queued insert stays queued), then the push brings the insert's row back.
    await bob.system.syncManager.pullChanges();
    await bob.system.forceSync();
    expect(await titles(bob, space)).toEqual(['bread', 'milk']);
    expect(await titles(bob, null)).toEqual(['bob private']);
  });

  it('a member removed and added again writes an id they wrote before without the write being dropped', async () => {
    const { alice, bob, space } = await sharedList();
    await todos(bob).insert({ id: 'shared-x', title: 'x by bob', completed: false }, { space });
    await bob.system.forceSync();
    await alice.system.forceSync();
    await todos(alice).delete('shared-x');
    await alice.system.spaces.removeMember(space, 'bob');
    await alice.system.forceSync();
    await bob.system.forceSync();
    expect(await titles(bob, space)).toEqual([]);
    await alice.system.spaces.addMember(space, 'bob', 'editor');
    await alice.system.forceSync();
    // Bob's device forgot the record with the space; its new write must not reuse the vector
    // counter of the old one, which the server's tombstone already counts (it would be
    // answered "conflict", found stale, and dropped).
    await todos(bob).insert({ id: 'shared-x', title: 'x again', completed: false }, { space });
    await bob.system.forceSync();
    await bob.system.forceSync();
    await alice.system.forceSync();
    expect(await titles(alice, space)).toEqual(['milk', 'x again']);
    expect(await bob.system.listDeadLetters()).toEqual([]);
  });

  it("pokes the owner's live device when an editor writes in the space", async () => {
    const { alice, bob, space } = await sharedList();
    // Alice's private sequence runs far ahead of the space's: a space poke must not be
    // compared with the private cursor (it would look like an echo and be ignored).
    for (let i = 0; i < 20; i++) await todos(alice).insert({ title: `private ${i}`, completed: false });
    await alice.system.forceSync();
    const webSocket: WebSocketFactory = (url) => new WebSocket(url) as never;
    const live = await h.device('alice-laptop', {
      user: 'alice',
      config: { autoStart: true, live: { url: liveUrlFrom(h.url), webSocket } },
    });
    await until(async () => (await titles(live, space)).includes('milk'));
    await todos(bob).insert({ title: 'eggs', completed: false }, { space });
    await bob.system.forceSync();
    // No sync call on the laptop: the space's poke makes it pull.
    await until(async () => (await titles(live, space)).includes('eggs'));
    expect(await titles(live, space)).toEqual(['eggs', 'milk']);
  });

  it("resolves a conflict on a shared record in the record's space, never in the private space", async () => {
    const { alice, bob, space } = await sharedList();
    const milk = (await todos(bob).find({ space }))[0]!;
    await todos(bob).update(milk.id, { title: 'milk from bob' });
    await bob.system.forceSync();
    // Alice edits her stale copy later: her push meets a conflict, and her side wins it.
    await todos(alice).update(milk.id, { title: 'milk from alice' });
    await alice.system.forceSync();
    await alice.system.forceSync();
    await bob.system.forceSync();
    expect(await titles(bob, space)).toEqual(['milk from alice']);
    expect(await titles(alice, space)).toEqual(['milk from alice']);
    expect(await h.server.storage.getRecord('alice', 'todos', milk.id)).toBeNull();
    expect(await alice.system.listDeadLetters()).toEqual([]);
  });

  it.each([
    ['a reset after compaction', false],
    ["a refused write (the member's role went down to viewer)", true],
  ])(
    'a conflict parked on a shared record the server then deleted and forgot is decided for the server as a deletion, after %s',
    async (_how, refused) => {
      const alice = await h.device('alice-phone', { user: 'alice' });
      let bob = await h.device('bob-phone', { user: 'bob', config: { conflictStrategy: 'manual' } });
      const { id: space } = await alice.system.spaces.create({ name: 'Groceries' });
      await alice.system.spaces.addMember(space, 'bob', 'editor');
      const { id: milk } = await todos(alice).insert({ title: 'milk', completed: false }, { space });
      await todos(alice).insert({ title: 'bread', completed: false }, { space });
      await alice.system.forceSync();
      await bob.system.forceSync();
      // Both edit milk; Alice's edit reaches the server first, so Bob's push parks the conflict.
      await todos(alice).update(milk, { title: 'oat milk' });
      await todos(bob).update(milk, { title: 'soy milk' });
      await alice.system.forceSync();
      await bob.system.forceSync();
      expect(await bob.system.listConflicts()).toMatchObject([
        { entityId: milk, server: { data: { title: 'oat milk' } } },
      ]);
      // Bob's app is closed (no sync of his may hear the delete) while the server deletes milk
      // and forgets its tombstone.
      await bob.close();
      await todos(alice).delete(milk);
      if (refused) await alice.system.spaces.addMember(space, 'bob', 'viewer');
      await alice.system.forceSync();
      await h.server.storage.compact({ tombstonesBefore: Date.now() + 1 });
      bob = await bob.restart();
      if (refused) {
        // Bob's write is refused: his copy of the space is read again from 0.
        const bread = (await todos(bob).find({ space })).find((todo) => todo.title === 'bread');
        await todos(bob).update(bread!.id, { title: 'rye bread' });
      }
      // Bob's cursor of the space is behind its horizon (or dropped with the refused write): the
      // space is read from 0, and milk is not in it any more.
      await bob.system.forceSync().catch(() => undefined);
      await bob.system.forceSync();
      const [parked] = await bob.system.listConflicts();
      expect(parked).toMatchObject({ entityId: milk, conflictType: 'update-delete', server: { deleted: true } });
      await bob.system.resolveConflict(parked!.id, { winner: 'server' });
      await syncAll([alice, bob]);
      expect(await titles(bob, space)).toEqual(['bread']);
      expect(await titles(alice, space)).toEqual(['bread']);
      expect(await bob.system.localStore.countPending()).toBe(0);
    },
  );

  it("a reset of the private space after compaction keeps the shared spaces' records", async () => {
    const { alice, space } = await sharedList();
    const laptop = await h.device('alice-laptop', { user: 'alice' });
    await laptop.system.forceSync();
    const [own] = await todos(laptop).find({ space: null });
    await todos(laptop).delete(own!.id);
    await laptop.system.forceSync();
    // The tombstone goes: the phone's private cursor is now older than the private history.
    await h.server.storage.compact({ tombstonesBefore: Date.now() + 1 });
    await alice.system.forceSync();
    expect(await titles(alice, null)).toEqual([]);
    expect(await titles(alice, space)).toEqual(['milk']);
    await alice.system.forceSync();
    expect(await titles(alice, space)).toEqual(['milk']);
  });

  it('never lets a shared record overwrite a private record with the same id', async () => {
    const { alice, bob, space } = await sharedList();
    await todos(bob).insert({ id: 'same-id', title: 'bob secret', completed: false });
    await bob.system.forceSync();
    await todos(alice).insert({ id: 'same-id', title: 'from the space', completed: false }, { space });
    await alice.system.forceSync();
    await bob.system.forceSync();
    expect((await todos(bob).get('same-id'))?.title).toBe('bob secret');
    expect((await todos(bob).get('same-id'))?.space).toBeNull();
  });
});
