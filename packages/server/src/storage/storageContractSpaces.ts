import {
  type Change,
  encodeHlc,
  HybridLogicalClock,
  MEMBER_TYPE,
  memberEntityId,
  type Role,
  SPACE_TYPE,
} from '@ferry/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decideChange } from '../push/decideChange.js';
import { parseSchema } from '../schema/parseSchema.js';
import { decideInSpace } from '../spaces/decideInSpace.js';
import type { ChangeDecider, ServerStorage } from './ServerStorage.js';
import type { MakeTimedStorage } from './storageContractHistory.js';

const T0 = 1_732_550_000_000;
const SPACE = 'sp_contract1';

let counter = 0;
function change(entityType: string, entityId: string, operation: Change['operation'], data: Change['data']): Change {
  counter += 1;
  return {
    id: `s-${counter}`,
    entityType,
    entityId,
    operation,
    data,
    timestamp: T0 + counter,
    hlc: encodeHlc({ wallTime: T0 + counter, counter: 0, node: 'device-a' }),
    version: 1,
    vector: { 'device-a': counter },
    clientId: 'device-a',
    space: SPACE,
  };
}

const createSpace = (name = 'Family') => change(SPACE_TYPE, SPACE, 'CREATE', { name });
const grant = (user: string, role: Role) => change(MEMBER_TYPE, memberEntityId(SPACE, user), 'CREATE', { role });
const revoke = (user: string) => change(MEMBER_TYPE, memberEntityId(SPACE, user), 'DELETE', null);
const todo = (id: string) => change('todos', id, 'CREATE', { title: id });

/**
 * The spaces part of the storage contract: membership tables written in the push transaction
 * that applies the `$space` / `$member` change, the pusher's role read inside that transaction
 * after its lock, membership listings with each space's seq in one call.
 */
export function runSpacesContract(name: string, makeStorage: MakeTimedStorage): void {
  describe(`ServerStorage spaces contract: ${name}`, () => {
    let storage: ServerStorage;
    const schema = parseSchema({ entities: { todos: { fields: { title: 'string' } } } });
    const clock = new HybridLogicalClock('server', { now: () => T0 + 60_000 });
    const decideRecord: ChangeDecider = (input) => decideChange(input, { schema, clock });
    const push = (user: string, changes: Change[], decide?: ChangeDecider) =>
      storage.applyChanges(
        SPACE,
        changes,
        decide ?? ((input) => decideInSpace(input, { user, space: SPACE, source: { kind: 'storage' } }, decideRecord)),
        { actor: user },
      );

    beforeEach(async () => {
      storage = await makeStorage({ now: () => T0 });
    });
    afterEach(async () => {
      await storage.close();
    });

    it('creates a space with its creator as owner, and lists it with its seq', async () => {
      const outcome = await push('alice', [createSpace(), grant('alice', 'owner')]);
      expect(outcome.results.map((result) => result.status)).toEqual(['applied', 'applied']);
      expect(await storage.roleOf(SPACE, 'alice')).toBe('owner');
      expect(await storage.memberships('alice')).toEqual([{ id: SPACE, name: 'Family', role: 'owner', seq: 2 }]);
      expect(await storage.members(SPACE)).toEqual(['alice']);
      expect(await storage.memberships('bob')).toEqual([]);
    });

    it('grants, changes and removes roles in the order the changes apply', async () => {
      await push('alice', [createSpace(), grant('bob', 'viewer'), grant('carol', 'editor')]);
      expect(await storage.roleOf(SPACE, 'bob')).toBe('viewer');
      await push('alice', [grant('bob', 'editor'), revoke('carol')]);
      expect(await storage.roleOf(SPACE, 'bob')).toBe('editor');
      expect(await storage.roleOf(SPACE, 'carol')).toBeNull();
      expect((await storage.members(SPACE)).sort()).toEqual(['alice', 'bob']);
      expect(await storage.memberships('bob')).toEqual([{ id: SPACE, name: 'Family', role: 'editor', seq: 5 }]);
      await push('alice', [change(SPACE_TYPE, SPACE, 'UPDATE', { name: 'Home' })]);
      expect((await storage.memberships('bob'))[0]?.name).toBe('Home');
    });

    it("decides each change under the pusher's role as the earlier changes of the push left it", async () => {
      await push('alice', [createSpace(), grant('bob', 'owner')]);
      // Alice makes herself a viewer, then writes: the write is decided under "viewer".
      const outcome = await push('alice', [grant('alice', 'viewer'), todo('t1')]);
      expect(outcome.results.map((result) => result.status)).toEqual(['applied', 'rejected']);
      expect(outcome.results[1]?.error?.code).toBe('FORBIDDEN');
      expect(await storage.getRecord(SPACE, 'todos', 't1')).toBeNull();
    });

    it('refuses to leave a space with members without an owner, and changes nothing', async () => {
      await push('alice', [createSpace(), grant('alice', 'owner'), grant('bob', 'editor')]);
      const before = await storage.currentSeq(SPACE);
      for (const attempt of [revoke('alice'), grant('alice', 'editor'), grant('alice', 'viewer')]) {
        const [result] = (await push('alice', [attempt])).results;
        expect(result).toMatchObject({ status: 'rejected', error: { code: 'FORBIDDEN', retryable: false } });
        expect(result?.error?.message).toMatch(/alice is the last owner of space sp_contract1/);
      }
      expect(await storage.roleOf(SPACE, 'alice')).toBe('owner');
      expect(await storage.currentSeq(SPACE)).toBe(before);
      expect(await storage.getRecord(SPACE, MEMBER_TYPE, memberEntityId(SPACE, 'alice'))).toMatchObject({
        deleted: false,
        data: { role: 'owner' },
      });

      // With a second owner first, in the same push, she may go; the last member may leave too.
      const handover = await push('alice', [grant('bob', 'owner'), revoke('alice')]);
      expect(handover.results.map((result) => result.status)).toEqual(['applied', 'applied']);
      expect(await storage.members(SPACE)).toEqual(['bob']);
      const [alone] = (await push('bob', [grant('bob', 'editor')])).results;
      expect(alone?.error?.code).toBe('FORBIDDEN');
      expect((await push('bob', [revoke('bob')])).results[0]?.status).toBe('applied');
      expect(await storage.members(SPACE)).toEqual([]);
    });

    it('reads the owner count inside the push transaction: of two owners leaving at once, one stays', async () => {
      await push('alice', [createSpace(), grant('alice', 'owner'), grant('bob', 'owner'), grant('carol', 'editor')]);
      const outcomes = await Promise.all([push('alice', [revoke('alice')]), push('bob', [revoke('bob')])]);
      const statuses = outcomes.map((outcome) => outcome.results[0]?.status).sort();
      expect(statuses).toEqual(['applied', 'rejected']);
      const owners = [];
      for (const user of ['alice', 'bob']) if ((await storage.roleOf(SPACE, user)) === 'owner') owners.push(user);
      expect(owners).toHaveLength(1);
      expect(await storage.roleOf(SPACE, 'carol')).toBe('editor');
    });

    it('refuses a removed member inside the transaction, and changes nothing', async () => {
      await push('alice', [createSpace(), grant('bob', 'editor')]);
      expect((await push('bob', [todo('t1')])).results[0]?.status).toBe('applied');
      await push('alice', [revoke('bob')]);
      const before = await storage.currentSeq(SPACE);
      const outcome = await push('bob', [todo('t2'), todo('t1')]);
      expect(outcome.results.map((result) => result.error?.code)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
      expect(await storage.currentSeq(SPACE)).toBe(before);
      expect(await storage.getRecord(SPACE, 'todos', 't2')).toBeNull();
    });

    it('refuses creating a space whose id is taken, leaving its owner and name', async () => {
      await push('alice', [createSpace()]);
      const outcome = await push('mallory', [createSpace('Mine now')]);
      expect(outcome.results[0]).toMatchObject({ status: 'rejected', error: { code: 'FORBIDDEN' } });
      expect(await storage.roleOf(SPACE, 'mallory')).toBeNull();
      expect(await storage.memberships('alice')).toEqual([{ id: SPACE, name: 'Family', role: 'owner', seq: 1 }]);
    });

    it('rolls back membership effects with the push when a decision throws', async () => {
      await push('alice', [createSpace()]);
      const failing: ChangeDecider = (input) => {
        if (input.change.entityId === 'boom') throw new Error('boom');
        return decideInSpace(input, { user: 'alice', space: SPACE, source: { kind: 'storage' } }, decideRecord);
      };
      await expect(push('alice', [grant('bob', 'editor'), todo('boom')], failing)).rejects.toThrow('boom');
      expect(await storage.roleOf(SPACE, 'bob')).toBeNull();
      expect(await storage.currentSeq(SPACE)).toBe(1);
    });

    it('reads the seqs of many scopes in one call, 0 for a scope that never wrote', async () => {
      await push('alice', [createSpace(), todo('t1')]);
      const seqs = await storage.currentSeqs([SPACE, 'sp_neverwritten', 'alice']);
      expect([...seqs]).toEqual([
        [SPACE, 2],
        ['sp_neverwritten', 0],
        ['alice', 0],
      ]);
    });
  });
}
