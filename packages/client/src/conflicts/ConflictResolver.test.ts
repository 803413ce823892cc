import { canonicalJson, encodeHlc, type RecordData } from '@ferry/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConflictResolver } from './ConflictResolver.js';
import type { ConflictInfo, ConflictType, Resolution, ResolutionStrategy, VersionedState } from './types.js';

const h = (wallTime: number, node: string, counter = 0) => encodeHlc({ wallTime, counter, node });

function conflict(
  localVersion: VersionedState,
  serverVersion: VersionedState,
  conflictType: ConflictType,
): ConflictInfo {
  return { entityType: 'todos', entityId: 'todo-1', localVersion, serverVersion, conflictType, conflictingFields: [] };
}

// Local wrote at 3000 (title) and 1000 (done); the server at 2000: each side owns one field.
const localUpdate: VersionedState = {
  data: { title: 'Local title', done: true },
  operation: 'UPDATE',
  hlc: h(3000, 'device-a'),
  fieldHlcs: { title: h(3000, 'device-a'), done: h(1000, 'device-a') },
  timestamp: 3000,
  clientId: 'device-a',
};
const serverUpdate: VersionedState = {
  data: { title: 'Server title', done: false, note: 'from web' },
  hlc: h(2000, 'server'),
  fieldHlcs: { title: h(2000, 'server'), done: h(2000, 'server'), note: h(2000, 'server') },
  timestamp: 2000,
  clientId: 'device-b',
};
const serverDelete: VersionedState = { data: null, deleted: true, hlc: h(2500, 'server'), timestamp: 2500 };
const localDelete: VersionedState = { data: null, operation: 'DELETE', hlc: h(2500, 'device-a'), timestamp: 2500 };

const cases: Record<ConflictType, [VersionedState, VersionedState]> = {
  'update-update': [localUpdate, serverUpdate],
  'update-delete': [localUpdate, serverDelete],
  'delete-update': [localDelete, serverUpdate],
};

// The local patch wins over the live server record by being applied over it.
const localOverServer = { title: 'Local title', done: true, note: 'from web' };
const localAlone = { title: 'Local title', done: true };
const serverData = serverUpdate.data;

type Expected = { winner: Resolution['winner']; resolvedData: RecordData | null; deleted: boolean };
const table: Array<[ResolutionStrategy, ConflictType, Expected]> = [
  ['last-write-wins', 'update-update', { winner: 'local', resolvedData: localOverServer, deleted: false }],
  ['last-write-wins', 'update-delete', { winner: 'local', resolvedData: localAlone, deleted: false }],
  ['last-write-wins', 'delete-update', { winner: 'local', resolvedData: null, deleted: true }],
  ['first-write-wins', 'update-update', { winner: 'server', resolvedData: serverData, deleted: false }],
  ['first-write-wins', 'update-delete', { winner: 'server', resolvedData: null, deleted: true }],
  ['first-write-wins', 'delete-update', { winner: 'server', resolvedData: serverData, deleted: false }],
  ['server-wins', 'update-update', { winner: 'server', resolvedData: serverData, deleted: false }],
  ['server-wins', 'update-delete', { winner: 'server', resolvedData: null, deleted: true }],
  ['server-wins', 'delete-update', { winner: 'server', resolvedData: serverData, deleted: false }],
  ['client-wins', 'update-update', { winner: 'local', resolvedData: localOverServer, deleted: false }],
  ['client-wins', 'update-delete', { winner: 'local', resolvedData: localAlone, deleted: false }],
  ['client-wins', 'delete-update', { winner: 'local', resolvedData: null, deleted: true }],
  [
    'merge',
    'update-update',
    { winner: 'merged', resolvedData: { title: 'Local title', done: false, note: 'from web' }, deleted: false },
  ],
  ['merge', 'update-delete', { winner: 'local', resolvedData: localAlone, deleted: false }],
  ['merge', 'delete-update', { winner: 'local', resolvedData: null, deleted: true }],
  // The callback below always takes the server's side.
  ['manual', 'update-update', { winner: 'server', resolvedData: serverData, deleted: false }],
  ['manual', 'update-delete', { winner: 'server', resolvedData: null, deleted: true }],
  ['manual', 'delete-update', { winner: 'server', resolvedData: serverData, deleted: false }],
];

describe('ConflictResolver: every strategy × conflict type', () => {
  it.each(table)('%s on %s', async (strategy, type, expected) => {
    const resolver = new ConflictResolver(strategy);
    resolver.setManualResolutionCallback(async (c) => ({
      winner: 'server',
      resolvedData: c.serverVersion.data,
      deleted: c.serverVersion.data === null,
      strategy: 'manual',
    }));
    const [local, server] = cases[type];
    const resolution = await resolver.resolve(conflict(local, server, type));
    expect(resolution).toMatchObject({ ...expected, strategy });
  });
});

// The same conflicts with the server's write the later one: the time-ordered strategies flip.
const serverLater: VersionedState = {
  ...serverUpdate,
  hlc: h(4000, 'server'),
  fieldHlcs: { title: h(4000, 'server'), done: h(4000, 'server'), note: h(4000, 'server') },
  timestamp: 4000,
};
const serverDeleteLater: VersionedState = { ...serverDelete, hlc: h(4000, 'server'), timestamp: 4000 };
const laterCases: Record<ConflictType, [VersionedState, VersionedState]> = {
  'update-update': [localUpdate, serverLater],
  'update-delete': [localUpdate, serverDeleteLater],
  'delete-update': [localDelete, serverLater],
};
const laterTable: Array<[ResolutionStrategy, ConflictType, Expected]> = [
  ['last-write-wins', 'update-update', { winner: 'server', resolvedData: serverData, deleted: false }],
  ['last-write-wins', 'update-delete', { winner: 'server', resolvedData: null, deleted: true }],
  ['last-write-wins', 'delete-update', { winner: 'server', resolvedData: serverData, deleted: false }],
  ['first-write-wins', 'update-update', { winner: 'local', resolvedData: localOverServer, deleted: false }],
  ['first-write-wins', 'update-delete', { winner: 'local', resolvedData: localAlone, deleted: false }],
  ['first-write-wins', 'delete-update', { winner: 'local', resolvedData: null, deleted: true }],
  ['merge', 'update-update', { winner: 'merged', resolvedData: serverData, deleted: false }],
  ['merge', 'update-delete', { winner: 'server', resolvedData: null, deleted: true }],
  ['merge', 'delete-update', { winner: 'server', resolvedData: serverData, deleted: false }],
];

describe('ConflictResolver: time-ordered strategies when the server wrote later', () => {
  it.each(laterTable)('%s on %s', async (strategy, type, expected) => {
    const [local, server] = laterCases[type];
    const resolution = await new ConflictResolver(strategy).resolve(conflict(local, server, type));
    expect(resolution).toMatchObject({ ...expected, strategy });
  });
});

describe('ConflictResolver', () => {
  it('orders by hlc, not by a skewed wall-clock timestamp', async () => {
    // The device's clock ran a day ahead, but its hlc was corrected by the server's.
    const skewed = { ...localUpdate, timestamp: 86_400_000 + 3000, hlc: h(1500, 'device-a') };
    const resolution = await new ConflictResolver().resolve(conflict(skewed, serverUpdate, 'update-update'));
    expect(resolution.winner).toBe('server');
  });

  it('breaks an hlc wall-time tie by counter, then by node id', async () => {
    const a = { ...localUpdate, hlc: h(2000, 'device-a', 1) };
    const b = { ...serverUpdate, hlc: h(2000, 'device-b', 0) };
    const resolver = new ConflictResolver('last-write-wins');
    expect((await resolver.resolve(conflict(a, b, 'update-update'))).winner).toBe('local');
    const c = { ...serverUpdate, hlc: h(2000, 'device-b', 1) };
    expect((await resolver.resolve(conflict(a, c, 'update-update'))).winner).toBe('server');
  });

  it('without hlcs breaks a timestamp tie by client id', async () => {
    const a: VersionedState = { data: { n: 1 }, timestamp: 5, clientId: 'zeta' };
    const b: VersionedState = { data: { n: 2 }, timestamp: 5, clientId: 'alpha' };
    const resolver = new ConflictResolver('last-write-wins');
    expect((await resolver.resolve(conflict(a, b, 'update-update'))).resolvedData).toEqual({ n: 1 });
    expect((await resolver.resolve(conflict(b, a, 'update-update'))).resolvedData).toEqual({ n: 1 });
  });

  it('keeps the live side on an exact tie with a delete, under every symmetric strategy', async () => {
    const live: VersionedState = { data: { n: 1 }, timestamp: 5 };
    const gone: VersionedState = { data: null, deleted: true, timestamp: 5 };
    for (const strategy of ['last-write-wins', 'first-write-wins', 'merge'] as const) {
      const resolver = new ConflictResolver(strategy);
      expect(await resolver.resolve(conflict(live, gone, 'update-delete'))).toMatchObject({ deleted: false });
      expect(await resolver.resolve(conflict(gone, live, 'delete-update'))).toMatchObject({ deleted: false });
    }
  });

  it('under merge lets a delete win over edits it came after', async () => {
    const late = { ...serverDelete, hlc: h(4000, 'server') };
    const resolution = await new ConflictResolver('merge').resolve(conflict(localUpdate, late, 'update-delete'));
    expect(resolution).toMatchObject({ winner: 'server', resolvedData: null, deleted: true, hlc: h(4000, 'server') });
  });

  it('reports the per-field stamps of a merge', async () => {
    const resolution = await new ConflictResolver('merge').resolve(
      conflict(localUpdate, serverUpdate, 'update-update'),
    );
    expect(resolution.fieldHlcs).toEqual({
      title: h(3000, 'device-a'),
      done: h(2000, 'server'),
      note: h(2000, 'server'),
    });
    expect(resolution.hlc).toBe(h(3000, 'device-a'));
  });

  it('takes a whole winning record as it is, without the loser’s extra fields', async () => {
    const whole = { ...localUpdate, operation: 'CREATE' as const };
    const resolution = await new ConflictResolver('client-wins').resolve(
      conflict(whole, serverUpdate, 'update-update'),
    );
    expect(resolution.resolvedData).toEqual(localAlone);
  });

  it('uses the strategy set for the entity type over the default', async () => {
    const resolver = new ConflictResolver('server-wins');
    resolver.setStrategyForEntity('todos', 'client-wins');
    expect(resolver.getStrategy('todos')).toBe('client-wins');
    expect(resolver.getStrategy('notes')).toBe('server-wins');
    expect((await resolver.resolve(conflict(localUpdate, serverUpdate, 'update-update'))).winner).toBe('local');
  });

  it('rejects an unknown strategy when it is set, naming the valid ones', () => {
    expect(() => new ConflictResolver('newest' as ResolutionStrategy)).toThrow(
      /Unknown conflict resolution strategy "newest": use one of 'last-write-wins', 'first-write-wins', 'server-wins', 'client-wins', 'merge', 'manual'/,
    );
    const resolver = new ConflictResolver();
    expect(() => resolver.setStrategyForEntity('todos', 'lww' as ResolutionStrategy)).toThrow(/"lww"/);
    expect(resolver.getStrategy('todos')).toBe('last-write-wins');
  });

  describe('manual', () => {
    it('awaits the callback and hands it the conflict', async () => {
      const seen: ConflictInfo[] = [];
      const resolver = new ConflictResolver('manual');
      resolver.setManualResolutionCallback(async (c) => {
        seen.push(c);
        await new Promise((resolve) => setImmediate(resolve));
        return { winner: 'merged', resolvedData: { title: 'Both' }, deleted: false, strategy: 'manual' };
      });
      const input = conflict(localUpdate, serverUpdate, 'update-update');
      const resolution = await resolver.resolve(input);
      expect(seen).toEqual([input]);
      expect(resolution).toEqual({
        winner: 'merged',
        resolvedData: { title: 'Both' },
        deleted: false,
        strategy: 'manual',
      });
    });

    it('defers without a callback, keeping the local state meanwhile', async () => {
      const resolution = await new ConflictResolver('manual').resolve(
        conflict(localUpdate, serverUpdate, 'update-update'),
      );
      expect(resolution).toMatchObject({
        winner: 'deferred',
        resolvedData: localAlone,
        deleted: false,
        strategy: 'manual',
      });
      const deleted = await new ConflictResolver('manual').resolve(
        conflict(localDelete, serverUpdate, 'delete-update'),
      );
      expect(deleted).toMatchObject({ winner: 'deferred', resolvedData: null, deleted: true });
    });

    it('defers when the callback has no decision yet', async () => {
      const resolver = new ConflictResolver('manual');
      resolver.setManualResolutionCallback(async () => undefined);
      const resolution = await resolver.resolve(conflict(localUpdate, serverDelete, 'update-delete'));
      expect(resolution.winner).toBe('deferred');
    });

    it('rejects a malformed decision with a clear error', async () => {
      const resolver = new ConflictResolver('manual');
      resolver.setManualResolutionCallback(async () => ({ winner: 'nobody' }) as unknown as Resolution);
      await expect(resolver.resolve(conflict(localUpdate, serverUpdate, 'update-update'))).rejects.toThrow(
        /must resolve to undefined \(decide later\) or to/,
      );
    });

    it('passes the callback’s failure on', async () => {
      const resolver = new ConflictResolver('manual');
      resolver.setManualResolutionCallback(async () => {
        throw new Error('dialog closed');
      });
      await expect(resolver.resolve(conflict(localUpdate, serverUpdate, 'update-update'))).rejects.toThrow(
        'dialog closed',
      );
    });
  });
});

// Few fields, few nodes and a narrow clock range, so that ties of every kind come up often.
const fieldArb = fc.constantFrom('title', 'done', 'n', 'tags');
const valueArb = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom('a', 'b', ''),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 2 }),
  fc.dictionary(fc.constantFrom('x', 'y'), fc.integer({ min: 0, max: 2 }), { maxKeys: 2 }),
);
const hlcArb = fc
  .record({
    wallTime: fc.integer({ min: 0, max: 4 }),
    counter: fc.integer({ min: 0, max: 2 }),
    node: fc.constantFrom('a', 'b', 's'),
  })
  .map(encodeHlc);
const stateArb: fc.Arbitrary<VersionedState> = fc
  .record({
    deleted: fc.boolean(),
    data: fc.dictionary(fieldArb, valueArb, { maxKeys: 4 }),
    hlc: fc.option(hlcArb, { nil: undefined }),
    fieldHlcs: fc.option(fc.dictionary(fieldArb, hlcArb, { maxKeys: 4 }), { nil: undefined }),
    timestamp: fc.integer({ min: 0, max: 4 }),
    clientId: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
    operation: fc.constantFrom(undefined, 'UPDATE' as const, 'CREATE' as const),
  })
  .map(({ deleted, data, hlc, fieldHlcs, timestamp, clientId, operation }) => {
    const state: VersionedState = { data: deleted ? null : data, timestamp };
    if (deleted) state.deleted = true;
    else if (operation) state.operation = operation;
    if (hlc !== undefined) state.hlc = hlc;
    if (fieldHlcs !== undefined) state.fieldHlcs = fieldHlcs;
    if (clientId !== undefined) state.clientId = clientId;
    return state;
  });

const flipped: Record<Resolution['winner'], Resolution['winner']> = {
  local: 'server',
  server: 'local',
  merged: 'merged',
  deferred: 'deferred',
};

describe('ConflictResolver convergence', () => {
  it.each(['last-write-wins', 'first-write-wins', 'merge'] as const)(
    '%s gives both devices the same outcome',
    async (strategy) => {
      const resolver = new ConflictResolver(strategy);
      await fc.assert(
        fc.asyncProperty(stateArb, stateArb, async (x, y) => {
          const here = await resolver.resolve(conflict(x, y, 'update-update'));
          const there = await resolver.resolve(conflict(y, x, 'update-update'));
          expect(there.resolvedData).toEqual(here.resolvedData);
          expect(there.deleted).toBe(here.deleted);
          // Two identical states tie on content too; which one "won" is then moot.
          const identical = x.deleted === y.deleted && canonicalJson(x.data) === canonicalJson(y.data);
          if (!identical) expect(there.winner).toBe(flipped[here.winner]);
        }),
        { numRuns: 2000 },
      );
    },
  );

  it('last-write-wins keeps the later of two hlc-stamped writes', async () => {
    const resolver = new ConflictResolver('last-write-wins');
    await fc.assert(
      fc.asyncProperty(stateArb, stateArb, async (x, y) => {
        fc.pre(x.hlc !== undefined && y.hlc !== undefined && x.hlc !== y.hlc);
        const resolution = await resolver.resolve(conflict(x, y, 'update-update'));
        expect(resolution.hlc).toBe((x.hlc as string) > (y.hlc as string) ? x.hlc : y.hlc);
      }),
    );
  });
});
