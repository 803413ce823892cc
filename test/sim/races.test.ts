import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type RaceDevice, raceWorld, release } from './raceHarness.js';

const RUNS = 30;

async function syncUntilQuiet(s: fc.Scheduler, devices: RaceDevice[]): Promise<void> {
  for (let round = 0; round < 3; round++) {
    for (const device of devices) await release(s, device.manager.performFullSync());
  }
}

describe('races explored by fc.scheduler', () => {
  it('a write during an in-flight push is neither lost nor sent twice', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), async (s) => {
        const world = await raceWorld(s);
        try {
          const a = await world.device('dev-a');
          await a.todos.insert({ id: 't1', title: 'v1' });
          const push = a.manager.pushChanges();
          const write = s.schedule(Promise.resolve(), 'local write').then(() => a.todos.update('t1', { title: 'v2' }));
          await release(s, Promise.all([push, write]));
          await syncUntilQuiet(s, [a]);
          expect(await a.todos.get('t1')).toEqual({ id: 't1', title: 'v2' });
          expect(await a.store.countPending()).toBe(0);
          const log = await world.server.storage.changesSince('alice', { since: 0, limit: 100 });
          expect(log.items.map((c) => c.entityId)).toEqual(['t1', 't1']);
          const record = await world.server.storage.getRecord('alice', 'todos', 't1');
          expect(record?.data).toEqual({ title: 'v2' });
        } finally {
          await world.close();
        }
      }),
      { numRuns: RUNS, seed: 1101 },
    );
  }, 120_000);

  it('a pull landing while a local write rebases on the same entity converges', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.boolean(), async (s, bFirst) => {
        const world = await raceWorld(s);
        try {
          const [a, b] = [await world.device('dev-a'), await world.device('dev-b')];
          await b.todos.insert({ id: 't1', title: 'base', completed: false });
          await syncUntilQuiet(s, [b, a]);
          const edits = [
            b.todos.update('t1', { title: 'from b' }).then(() => b.manager.performFullSync()),
            a.manager.pullChanges(),
            s.schedule(Promise.resolve(), 'a edits').then(() => a.todos.update('t1', { completed: true })),
          ];
          await release(s, Promise.allSettled(bFirst ? edits : edits.reverse()));
          await syncUntilQuiet(s, [a, b]);
          const server = await world.server.storage.getRecord('alice', 'todos', 't1');
          const { id: _a, ...onA } = (await a.todos.get('t1'))!;
          const { id: _b, ...onB } = (await b.todos.get('t1'))!;
          expect(onA).toEqual(server?.data);
          expect(onB).toEqual(server?.data);
          expect(await a.store.countPending()).toBe(0);
          expect(await b.store.countPending()).toBe(0);
        } finally {
          await world.close();
        }
      }),
      { numRuns: RUNS, seed: 2202 },
    );
  }, 120_000);

  it('overlapping pushes of one client apply each change exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 1, max: 6 }), async (s, count) => {
        const world = await raceWorld(s);
        try {
          const a = await world.device('dev-a');
          for (let n = 0; n < count; n++) await a.todos.insert({ id: `t${n}`, title: `n${n}` });
          await release(s, Promise.all([a.manager.pushChanges(), a.manager.pushChanges(), a.manager.pushChanges()]));
          await syncUntilQuiet(s, [a]);
          expect(await a.store.countPending()).toBe(0);
          const log = await world.server.storage.changesSince('alice', { since: 0, limit: 100 });
          expect(log.items).toHaveLength(count);
          for (let n = 0; n < count; n++) {
            // Applied twice, a record would be at version 2.
            expect((await world.server.storage.getRecord('alice', 'todos', `t${n}`))?.version).toBe(1);
          }
        } finally {
          await world.close();
        }
      }),
      { numRuns: RUNS, seed: 3303 },
    );
  }, 120_000);
});
