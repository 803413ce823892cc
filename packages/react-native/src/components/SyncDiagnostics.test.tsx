import type { SyncSystem } from '@ferry/client';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fireEvent, render, screen, waitFor } from '@testing-library/react-native';
import { startServer, type TestServer } from '../../test/support/server.ts';
import { SyncDiagnostics } from './SyncDiagnostics.tsx';

// A real server on 127.0.0.1 and a real engine on a SQLite file; only React Native's native
// modules are React Native's own Jest mocks (the preset).
const CONTENT = 'okapi-5521';
// Each wait covers a real HTTP round trip and SQLite writes: generous, for a loaded machine.
const WAIT = { timeout: 10_000 };
let server: TestServer;
let device: SyncSystem;

beforeAll(async () => {
  server = await startServer();
  device = await server.device('diagnostics', { appVersion: '7.1.0' });
});
afterAll(async () => {
  await server.close();
});

describe('<SyncDiagnostics>', () => {
  it('shows the outbox, syncs on "Sync now", lists the dead letter and retries and discards it', async () => {
    // Written before the device talked to the server, which declares "todos", not "todo".
    await device.collection('todo').insert({ id: 'typo', title: CONTENT });
    await device.collection('todos').insert({ id: 'a', title: CONTENT });
    await device.collection('todos').insert({ id: 'b', title: CONTENT });
    await render(<SyncDiagnostics sync={device} />);
    await screen.findByText('Outbox (3)', {}, WAIT);
    expect(screen.getByText('todos: 2 create')).toBeTruthy();
    expect(screen.getByText('todo: 1 create')).toBeTruthy();
    expect(screen.getByText(/client diagnostics · cursor 0 · better-sqlite3 · SDK 0\.1\.0/)).toBeTruthy();
    expect(screen.getByText(/app 7\.1\.0/)).toBeTruthy();

    fireEvent.press(screen.getByRole('button', { name: 'Sync now' }));
    await screen.findByText('Dead letters (1)', {}, WAIT);
    await screen.findByText('Outbox (0)', {}, WAIT);
    expect(screen.getByText('UNKNOWN_ENTITY_TYPE · todo create')).toBeTruthy();
    // The reason, on the dead letter (and in the last errors when the engine recorded it there too).
    expect(screen.getAllByText(/"todo" is not declared/).length).toBeGreaterThan(0);

    // Retry sends it again (the server counts a second rejection), and it comes back dead.
    const rejections = async () =>
      (await server.server.observability.metrics.rejections.get()).values.reduce((sum, value) => sum + value.value, 0);
    expect(await rejections()).toBe(1);
    fireEvent.press(screen.getByRole('button', { name: 'Retry' }));
    // Taken off the dead-letter list (or, if a sync ran meanwhile, already rejected again).
    await waitFor(async () => {
      if ((await device.listDeadLetters()).length > 0 && (await rejections()) < 2) throw new Error('not retried yet');
    }, WAIT);
    fireEvent.press(screen.getByRole('button', { name: 'Sync now' }));
    await waitFor(async () => expect(await rejections()).toBe(2), WAIT);
    await screen.findByText('Dead letters (1)', {}, WAIT);

    fireEvent.press(screen.getByRole('button', { name: 'Discard' }));
    await screen.findByText('Dead letters (0)', {}, WAIT);
    expect(await device.listDeadLetters()).toEqual([]);
    // Counts and codes only: no record's contents anywhere on screen.
    expect(JSON.stringify(screen.toJSON())).not.toContain(CONTENT);
  });

  it('shows why "Sync now" failed when the server cannot be reached', async () => {
    const offline = await server.device('unreachable', {
      remoteAPI: undefined,
      apiBaseUrl: 'http://127.0.0.1:9',
      getToken: () => 'unused',
      timeoutMs: 2000,
    });
    await offline.collection('todos').insert({ title: CONTENT });
    await render(<SyncDiagnostics sync={offline} />);
    await screen.findByText('Outbox (1)', {}, WAIT);
    fireEvent.press(screen.getByRole('button', { name: 'Sync now' }));
    await waitFor(() => expect(screen.getByText(/^Last sync failed:/)).toBeTruthy(), WAIT);
    await screen.findByText(/^NETWORK_ERROR:/, {}, WAIT);
  });
});
