/**
 * Model-based tests: random command sequences (write, offline, kill, push, pull, reconnect)
 * run against the REAL engine and server in a simulated world, and against a Map model of
 * what each device wrote. Two devices of one user write disjoint ids, so the model is exact.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { healed } from '../../sim/faults.js';
import { canonical, deviceRecords, serverRecords } from '../../sim/invariants.js';
import type { SimDevice } from '../../sim/simDevice.js';
import { World } from '../../sim/world.js';

interface Model {
  /** `id` → canonical data, or null once deleted. */
  todos: Map<string, string | null>;
}

interface Real {
  world: World;
  devices: SimDevice[];
}

type Command = fc.AsyncCommand<Model, Real>;

async function ownTodosMatch(model: Model, device: SimDevice): Promise<void> {
  const local = await deviceRecords(device);
  for (const [id, want] of model.todos) {
    if (id.startsWith(`${device.name}-`)) expect(local.get(id) ?? null, `${device.name} reads ${id}`).toBe(want);
  }
}

/** A command whose label is its replay description. */
function command(label: string, run: (model: Model, real: Real) => Promise<void>): Command {
  return { check: () => true, run, toString: () => label };
}

function write(index: number, slot: number, title: string): Command {
  return command(`write(dev${index}, ${slot}, ${JSON.stringify(title)})`, async (model, real) => {
    const device = real.devices[index]!;
    const id = `${device.name}-${slot}`;
    const todos = device.engine!.todos;
    const exists = (await todos.get(id)) !== null;
    if (exists && title.length % 3 === 0) {
      await todos.delete(id);
      model.todos.set(id, null);
    } else if (exists) {
      const { id: _id, ...data } = await todos.update(id, { title });
      model.todos.set(id, canonical(data));
    } else {
      await todos.insert({ id, title, completed: false });
      model.todos.set(id, canonical({ title, completed: false }));
    }
    await ownTodosMatch(model, device);
  });
}

function setOnline(index: number, online: boolean): Command {
  return command(`${online ? 'reconnect' : 'offline'}(dev${index})`, async (_model, real) => {
    real.devices[index]!.setOnline(online);
  });
}

function kill(index: number, statements: number): Command {
  return command(`kill(dev${index} at statement ${statements})`, async (model, real) => {
    const device = real.devices[index]!;
    // Kill at the n-th store statement of a sync, or at once when the sync never gets there.
    device.armKill(statements);
    void device.engine!.manager.triggerSync();
    await real.world.clock.advance(2_000);
    if (device.engine) device.kill();
    await real.world.clock.drive(device.open(), 'reopen');
    await ownTodosMatch(model, device);
  });
}

function push(index: number): Command {
  return command(`push(dev${index})`, async (model, real) => {
    const device = real.devices[index]!;
    await real.world.clock.drive(device.engine!.manager.pushChanges(), 'push');
    await ownTodosMatch(model, device);
  });
}

function pull(index: number): Command {
  return command(`pull(dev${index})`, async (model, real) => {
    const device = real.devices[index]!;
    // Offline, the pull fails with a network error; nothing may change then either.
    await real.world.clock.drive(device.engine!.manager.pullChanges(), 'pull').catch(() => undefined);
    await ownTodosMatch(model, device);
  });
}

const device = fc.integer({ min: 0, max: 1 });
const writes = fc
  .tuple(device, fc.integer({ min: 0, max: 3 }), fc.string({ minLength: 1, maxLength: 8 }))
  .map(([d, slot, title]) => write(d, slot, title));
// Writes are listed three times: they are what the other commands have to keep safe.
const commands = [
  writes,
  writes,
  writes,
  fc.tuple(device, fc.boolean()).map(([d, online]) => setOnline(d, online)),
  fc.tuple(device, fc.integer({ min: 0, max: 30 })).map(([d, n]) => kill(d, n)),
  device.map((d) => push(d)),
  device.map((d) => pull(d)),
];

describe('engine against a Map model', () => {
  it('keeps own writes through offline, kills, pushes and pulls, and converges on the model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 60, size: 'large' }), async (cmds) => {
        const world = await World.create({ seed: 1, clients: 2, ops: 0, users: ['alice'] });
        world.network.faults = healed(world.faults);
        try {
          const model: Model = { todos: new Map() };
          await fc.asyncModelRun(() => ({ model, real: { world, devices: world.devices } }), cmds);
          for (const d of world.devices) d.setOnline(true);
          for (let round = 0; round < 2; round++) {
            for (const d of world.devices) await world.clock.drive(d.engine!.manager.performFullSync(), 'sync');
          }
          const server = await serverRecords(world.server.storage, 'alice');
          for (const [id, want] of model.todos) {
            const record = server.get(`todos/${id}`);
            expect(record && !record.deleted ? canonical(record.data) : null, `server ${id}`).toBe(want);
          }
          for (const d of world.devices) {
            const local = await deviceRecords(d);
            const live = [...model.todos].filter(([, data]) => data !== null);
            expect(new Map(live)).toEqual(local);
          }
        } finally {
          await world.close();
        }
      }),
      { numRuns: 25, seed: 424242 },
    );
  }, 240_000);
});
