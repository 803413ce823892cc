import type { FindOptions, SyncSystem } from '@ferry/client';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { act, renderHook, waitFor } from '@testing-library/react-native';
import { startServer, type TestServer } from '../../test/support/server.ts';
import { providing } from '../../test/support/wrapper.tsx';
import { useQuery } from './useQuery.ts';

type Todo = { title: string; done: boolean };

let server: TestServer;
let phone: SyncSystem;
let tablet: SyncSystem;
beforeAll(async () => {
  server = await startServer();
  phone = await server.device('query-phone');
  tablet = await server.device('query-tablet');
});
afterAll(() => server.close());

describe('useQuery', () => {
  it('re-renders on local writes and on data a sync brings in, not on other types', async () => {
    let renders = 0;
    const { result, rerender, unmount } = await renderHook(
      (options: FindOptions) => {
        renders++;
        return useQuery<Todo>('todos', options);
      },
      { wrapper: providing(phone), initialProps: { where: { done: false }, orderBy: 'title' } },
    );
    await waitFor(() => expect(result.current.loading).toBe(false));
    expect(result.current.data).toEqual([]);

    await act(async () => {
      await phone.collection<Todo>('todos').insert({ id: 'q2', title: 'b: walk', done: false });
      await phone.collection<Todo>('todos').insert({ id: 'q1', title: 'a: milk', done: false });
      await phone.collection<Todo>('todos').insert({ id: 'q3', title: 'c: done already', done: true });
    });
    await waitFor(() => expect(result.current.data.map((todo) => todo.id)).toEqual(['q1', 'q2']));

    const before = renders;
    await act(async () => {
      await phone.collection('notes').insert({ id: 'n1', text: 'unrelated' });
    });
    expect(renders).toBe(before);

    await act(async () => {
      await tablet.collection<Todo>('todos').insert({ id: 'q0', title: '0: from the tablet', done: false });
      await tablet.forceSync();
      await phone.forceSync();
    });
    await waitFor(() => expect(result.current.data.map((todo) => todo.id)).toEqual(['q0', 'q1', 'q2']));
    expect(result.current.data[0]).toEqual({ id: 'q0', title: '0: from the tablet', done: false });

    // New options (even as a fresh object on each render) run a new query.
    await rerender({ where: { done: true } });
    await waitFor(() => expect(result.current.data.map((todo) => todo.id)).toEqual(['q3']));
    const settled = renders;
    await rerender({ where: { done: true } });
    expect(result.current.data.map((todo) => todo.id)).toEqual(['q3']);
    expect(renders).toBe(settled + 1);

    await unmount();
    await phone.collection<Todo>('todos').update('q3', { done: false });
  });

  it('takes a Collection and surfaces a failing query as an error', async () => {
    const todos = phone.collection<Todo>('todos');
    const { result } = await renderHook(() => useQuery(todos, { where: { "x') OR 1=1 --": 1 } }));
    await waitFor(() => expect(result.current.loading).toBe(false));
    expect(result.current.error?.message).toMatch('Invalid field name');
    expect(result.current.data).toEqual([]);
  });

  it('takes a live query (count, SQL read) and skips a re-render when a write leaves the result as it was', async () => {
    const todos = phone.collection<Todo>('todos');
    let renders = 0;
    const { result, unmount } = await renderHook(() => {
      renders++;
      return {
        open: useQuery(todos.countQuery({ done: false })),
        titles: useQuery(
          phone.localStore.sqlQuery(
            "SELECT json_extract(data, '$.title') AS title FROM ferry_entities WHERE entity_type = ? AND deleted = 0 AND json_extract(data, '$.done') = 1 ORDER BY 1",
            ['todos'],
          ),
        ),
      };
    });
    await waitFor(() => expect(result.current.open.loading || result.current.titles.loading).toBe(false));
    const openBefore = result.current.open.data ?? 0;
    await act(async () => {
      await todos.insert({ id: 'lq1', title: 'lq: done', done: true });
    });
    await waitFor(() => expect(result.current.titles.data?.map((row) => row.title)).toContain('lq: done'));
    expect(result.current.open.data).toBe(openBefore);
    const settled = renders;
    await act(async () => {
      // Changes a field neither query reads: both re-run, neither result changes.
      await todos.update('lq1', { title: 'lq: done' });
    });
    expect(renders).toBe(settled);
    await act(async () => {
      await todos.update('lq1', { done: false });
    });
    await waitFor(() => expect(result.current.open.data).toBe(openBefore + 1));
    await unmount();
  });

  it('follows a live query to another store even when the query itself is the same', async () => {
    await phone.collection<Todo>('todos').insert({ id: 'sw-phone', title: 'switch: phone only', done: true });
    const titles = (sync: SyncSystem) =>
      sync.localStore.sqlQuery(
        "SELECT entity_id AS id FROM ferry_entities WHERE entity_type = 'todos' AND entity_id LIKE 'sw-%'",
      );
    const { result, rerender, unmount } = await renderHook((sync: SyncSystem) => useQuery(titles(sync)), {
      initialProps: phone,
    });
    await waitFor(() => expect(result.current.data).toEqual([{ id: 'sw-phone' }]));
    await rerender(tablet);
    await waitFor(() => expect(result.current.data).toEqual([]));
    await unmount();
  });
});
