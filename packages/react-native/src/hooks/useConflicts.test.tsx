import type { SyncSystem } from '@ferry/client';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { act, renderHook, waitFor } from '@testing-library/react-native';
import { startServer, type TestServer } from '../../test/support/server.ts';
import { providing } from '../../test/support/wrapper.tsx';
import { useConflicts } from './useConflicts.ts';
import { useDeadLetters } from './useDeadLetters.ts';

let server: TestServer;
let phone: SyncSystem;
let laptop: SyncSystem;
beforeAll(async () => {
  server = await startServer();
  phone = await server.device('conflict-phone', { conflictStrategy: 'manual' });
  laptop = await server.device('conflict-laptop', { conflictStrategy: 'manual' });
});
afterAll(() => server.close());

describe('useConflicts', () => {
  it('lists a conflict a sync parks, and a decision made through it reaches the engine and the server', async () => {
    await phone.collection('todos').insert({ id: 'c1', title: 'original', completed: false });
    await phone.forceSync();
    await laptop.forceSync();
    // Both edit offline; the laptop syncs first, so the phone meets the conflict.
    await laptop.collection('todos').update('c1', { title: 'from the laptop' });
    await phone.collection('todos').update('c1', { title: 'from the phone' });
    await laptop.forceSync();

    const { result } = await renderHook(() => useConflicts(), { wrapper: providing(phone) });
    await waitFor(() => expect(result.current.loading).toBe(false));
    expect(result.current.conflicts).toEqual([]);

    await act(async () => {
      await phone.forceSync();
    });
    await waitFor(() => expect(result.current.conflicts).toHaveLength(1));
    const [conflict] = result.current.conflicts;
    expect(conflict).toMatchObject({
      entityType: 'todos',
      entityId: 'c1',
      conflictType: 'update-update',
      conflictingFields: ['title'],
      local: { data: { title: 'from the phone' } },
      server: { data: { title: 'from the laptop' } },
    });

    await act(async () => {
      await result.current.resolve(conflict!.id, {
        winner: 'merged',
        data: { title: 'both, merged', completed: true },
      });
    });
    await waitFor(() => expect(result.current.conflicts).toEqual([]));
    expect(await phone.listConflicts()).toEqual([]);
    expect(await phone.collection('todos').get('c1')).toEqual({ id: 'c1', title: 'both, merged', completed: true });

    await phone.forceSync();
    await laptop.forceSync();
    expect(await laptop.collection('todos').get('c1')).toEqual({ id: 'c1', title: 'both, merged', completed: true });
  });

  it('rejects a decision on an unknown conflict with the engine error', async () => {
    const { result } = await renderHook(() => useConflicts(phone));
    await waitFor(() => expect(result.current.loading).toBe(false));
    await expect(result.current.resolve('no-such-conflict', { winner: 'local' })).rejects.toThrow('listConflicts()');
  });
});

describe('useDeadLetters', () => {
  it('lists a change the server rejects for good, and retries and discards it through the engine', async () => {
    const { result } = await renderHook(() => useDeadLetters(), { wrapper: providing(phone) });
    await waitFor(() => expect(result.current.loading).toBe(false));
    expect(result.current.deadLetters).toEqual([]);

    // The server's schema says a todo's title is a string.
    const poison = await phone.changeTracker.trackChange('todos', 'bad', 'CREATE', { title: 42 });
    await act(async () => {
      await phone.forceSync();
    });
    await waitFor(() => expect(result.current.deadLetters.map((d) => d.change.id)).toEqual([poison.id]));
    expect(result.current.deadLetters[0]?.error.code).toBe('VALIDATION_ERROR');

    await act(async () => {
      expect(await result.current.retry(poison.id)).toBe(true);
    });
    await waitFor(() => expect(result.current.deadLetters).toEqual([]));

    // The retry queued it again and asked for a sync; the server refuses it again, so it is
    // back in the list (whether that sync or this one sent it).
    await act(async () => {
      await phone.forceSync();
    });
    await waitFor(() => expect(result.current.deadLetters).toHaveLength(1));
    expect(await phone.localStore.countPending()).toBe(0);
    await act(async () => {
      expect(await result.current.discard(poison.id)).toBe(true);
    });
    await waitFor(() => expect(result.current.deadLetters).toEqual([]));
    expect(await phone.listDeadLetters()).toEqual([]);
  });
});
