import type { SyncSystem } from '@ferry/client';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { act, renderHook, waitFor } from '@testing-library/react-native';
import { startServer, type TestServer } from '../../test/support/server.ts';
import { providing } from '../../test/support/wrapper.tsx';
import { useSpaces } from './useSpaces.ts';

let server: TestServer;
let phone: SyncSystem;
beforeAll(async () => {
  server = await startServer();
  phone = await server.device('spaces-phone', { userId: 'alice' });
});
afterAll(() => server.close());

describe('useSpaces', () => {
  it('shows a space created offline as pending, then as the server lists it after a sync', async () => {
    const { result } = await renderHook(() => useSpaces(), { wrapper: providing(phone) });
    await waitFor(() => expect(result.current.loading).toBe(false));
    expect(result.current.spaces).toEqual([]);

    let id = '';
    await act(async () => {
      ({ id } = await result.current.actions.create({ name: 'Groceries' }));
    });
    await waitFor(() =>
      expect(result.current.spaces).toEqual([{ id, name: 'Groceries', role: 'owner', pending: true }]),
    );
    await act(async () => {
      await phone.forceSync();
    });
    await waitFor(() =>
      expect(result.current.spaces).toEqual([{ id, name: 'Groceries', role: 'owner', pending: false }]),
    );
    await act(async () => {
      await result.current.actions.leave(id);
      await phone.forceSync();
    });
    await waitFor(() => expect(result.current.spaces).toEqual([]));
  });
});
