import type { SyncSystem } from '@ferry/client';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { act, render, screen, waitFor } from '@testing-library/react-native';
import { type Gate, gatedApi } from '../../test/support/gatedApi.ts';
import { type ManualTimers, manualTimers } from '../../test/support/manualTimers.ts';
import { startServer, type TestServer } from '../../test/support/server.ts';
import { SYNC_PROGRESS_COLORS, SyncProgress, syncStatusText } from './SyncProgress.tsx';

let server: TestServer;
let device: SyncSystem;
let gate: Gate;
let timers: ManualTimers;

beforeAll(async () => {
  server = await startServer();
  const direct = await server.device('progress-direct');
  gate = gatedApi(direct.remoteAPI);
  timers = manualTimers();
  device = await server.device('progress', { remoteAPI: gate.api, batchSize: 1, timers });
});
afterAll(async () => {
  gate.open();
  await server.close();
});

const bar = () => screen.getByRole('progressbar');
const barFill = () => screen.getByTestId('sync-progress-bar');

describe('<SyncProgress>', () => {
  it('renders nothing while idle', async () => {
    const view = await render(<SyncProgress syncManager={device.syncManager} />);
    expect(view.toJSON()).toBeNull();
  });

  it('shows each phase of a real sync, with counts, the current item, the bar and colours', async () => {
    await device.collection('todos').insert({ id: 'p1', title: 'first' });
    await device.collection('todos').insert({ id: 'p2', title: 'second' });
    await render(<SyncProgress syncManager={device.syncManager} showDetails />);

    let sync: Promise<void> = Promise.resolve();
    await act(async () => {
      sync = device.syncManager.triggerSync();
      await gate.reached('push');
    });
    expect(screen.getByText('Uploading (0/2)')).toBeTruthy();
    expect(screen.getByText('todos/p1')).toBeTruthy();
    expect(bar()).toHaveAccessibilityValue({ min: 0, max: 100, now: 0 });
    expect(screen.getByText('Uploading (0/2)')).toHaveStyle({ color: SYNC_PROGRESS_COLORS.working });

    await act(async () => {
      gate.release();
      await gate.reached('push');
    });
    // The push is pipelined: the second request leaves before the first batch is settled.
    await waitFor(() => expect(screen.getByText('Uploading (1/2)')).toBeTruthy());
    expect(screen.getByText('todos/p2')).toBeTruthy();
    expect(bar()).toHaveAccessibilityValue({ now: 50 });
    // The bar animates towards the new width (JS driver; the final value is what counts).
    await waitFor(() => expect(barFill()).toHaveStyle({ width: '50%' }));

    await act(async () => {
      gate.release();
      await gate.reached('pull');
    });
    expect(screen.getByText('Downloading (0/0)')).toBeTruthy();
    // Nothing counted yet: no bar.
    expect(screen.queryByRole('progressbar')).toBeNull();

    await act(async () => {
      gate.release();
      await sync;
    });
    expect(screen.getByText('Sync complete')).toHaveStyle({ color: SYNC_PROGRESS_COLORS.complete });
    expect(bar()).toHaveAccessibilityValue({ now: 100 });
    await waitFor(() => expect(barFill()).toHaveStyle({ width: '100%' }));

    // The engine's display timer returns the feed to idle: the panel disappears.
    await act(async () => timers.runAll());
    expect(screen.queryByTestId('sync-progress')).toBeNull();
  });

  it('shows the preparing phase while the engine waits for its database', async () => {
    await render(<SyncProgress syncManager={device.syncManager} />);
    // Another write holds the store's lock, so the sync cannot read its outbox yet.
    let unlock = () => {};
    const locked = new Promise<void>((resolve) => (unlock = resolve));
    let holding = () => {};
    const held = new Promise<void>((resolve) => (holding = resolve));
    const write = device.localStore.write(async () => {
      holding();
      await locked;
    });
    await held;
    let sync: Promise<void> = Promise.resolve();
    await act(async () => {
      sync = device.syncManager.triggerSync();
      await new Promise((resolve) => setTimeout(resolve, 0));
    });
    expect(screen.getByText('Preparing sync...')).toHaveStyle({ color: SYNC_PROGRESS_COLORS.working });
    expect(screen.queryByRole('progressbar')).toBeNull();
    gate.open(); // the rest of this sync goes straight through
    await act(async () => {
      unlock();
      await write;
      await sync;
    });
    expect(screen.getByText('Sync complete')).toBeTruthy();
    gate.close();
  });

  it('shows only the status line without details, and the error in red', async () => {
    await device.collection('todos').insert({ id: 'p3', title: 'third' });
    await render(<SyncProgress syncManager={device.syncManager} showDetails={false} />);
    let sync: Promise<void> = Promise.resolve();
    await act(async () => {
      sync = device.syncManager.triggerSync();
      await gate.reached('push');
    });
    // With details off, only the status line shows.
    expect(screen.getByText('Uploading (0/1)')).toBeTruthy();
    expect(screen.queryByRole('progressbar')).toBeNull();
    expect(screen.queryByText('todos/p3')).toBeNull();

    await act(async () => {
      gate.fail(new Error('The sync server is down for maintenance'));
      // A failed push does not skip the pull; the cycle still ends with the push's error.
      await gate.reached('pull');
      gate.release();
      await sync;
    });
    expect(screen.getByText('Sync failed: The sync server is down for maintenance')).toHaveStyle({
      color: SYNC_PROGRESS_COLORS.error,
    });
  });
});

describe('syncStatusText', () => {
  it.each([
    [{ phase: 'idle', totalItems: 0, processedItems: 0 }, 'Ready to sync'],
    [{ phase: 'preparing', totalItems: 0, processedItems: 0 }, 'Preparing sync...'],
    [{ phase: 'uploading', totalItems: 5, processedItems: 2 }, 'Uploading (2/5)'],
    [{ phase: 'downloading', totalItems: 500, processedItems: 250 }, 'Downloading (250/500)'],
    [{ phase: 'complete', totalItems: 3, processedItems: 3 }, 'Sync complete'],
    [
      { phase: 'error', totalItems: 0, processedItems: 0, error: 'Network request failed' },
      'Sync failed: Network request failed',
    ],
  ] as const)('%o → %s', (progress, text) => {
    expect(syncStatusText(progress)).toBe(text);
  });
});
