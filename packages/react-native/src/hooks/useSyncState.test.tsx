import type { SyncProgressState, SyncSystem } from '@ferry/client';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { act, renderHook, waitFor } from '@testing-library/react-native';
import { startServer, type TestServer } from '../../test/support/server.ts';
import { providing } from '../../test/support/wrapper.tsx';
import { usePendingChanges, useSyncProgress, useSyncState } from './useSyncState.ts';

let server: TestServer;
let device: SyncSystem;
beforeAll(async () => {
  server = await startServer();
  // Started, so the engine follows local writes; it syncs only when told to (no debounce).
  device = await server.device('state-hooks', { autoStart: true });
});
afterAll(() => server.close());

describe('useSyncState, usePendingChanges, useSyncProgress', () => {
  it('follow the engine through local writes and a sync', async () => {
    let renders = 0;
    const { result } = await renderHook(
      () => {
        renders++;
        return { state: useSyncState(), pending: usePendingChanges(), progress: useSyncProgress() };
      },
      { wrapper: providing(device) },
    );
    expect(result.current.state.lastSyncTimestamp).toBe(0);
    expect(result.current.pending).toBe(0);
    expect(result.current.progress.phase).toBe('idle');

    await act(async () => {
      await device.collection('todos').insert({ id: 's1', title: 'one' });
      await device.collection('todos').insert({ id: 's2', title: 'two' });
    });
    // The engine recounts the outbox after each commit, then notifies.
    await waitFor(() => expect(result.current.pending).toBe(2));
    expect(result.current.state.pendingChanges).toBe(2);

    const phases: SyncProgressState['phase'][] = [];
    const stop = device.syncManager.subscribeToProgress((progress) => phases.push(progress.phase));
    await act(async () => {
      await device.forceSync();
    });
    stop();
    expect(phases).toEqual(['preparing', 'uploading', 'uploading', 'downloading', 'downloading', 'complete']);
    expect(result.current.pending).toBe(0);
    expect(result.current.state.syncInProgress).toBe(false);
    expect(result.current.state.lastSyncTimestamp).toBeGreaterThan(0);
    expect(result.current.progress).toEqual({ phase: 'complete', totalItems: 4, processedItems: 4 });
    expect(renders).toBeGreaterThan(2);
  });

  it('take the manager explicitly, and explain what is missing without one', async () => {
    const { result } = await renderHook(() => usePendingChanges(device.syncManager));
    expect(result.current).toBe(0);
    await expect(renderHook(() => useSyncState())).rejects.toThrow('use <SyncProvider sync={...}>');
  });
});
