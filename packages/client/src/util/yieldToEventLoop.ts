/**
 * Resolves after the event loop has taken `turns` turns, so pending I/O runs: a request just
 * handed to `fetch` is written to its socket. (React Native's `fetch` runs natively; how soon a
 * request is handed over there depends on the architecture and was not measured.)
 *
 * A chain of promises never gives the event loop a turn, and the store's synchronous SQLite
 * drivers (better-sqlite3, op-sqlite's sync calls) make a whole local transaction one such
 * chain: a request started before it would only leave after it. One turn lets a request out on
 * an idle keep-alive connection; a request that needs a new connection (the previous response
 * has just been read, so its connection is not free yet) needs another for the connect to
 * complete. Not a timer the engine waits on (those are injected, see `Timers`): it takes no
 * virtual time.
 */
export async function yieldToEventLoop(turns = 1): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await nextTurn();
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => {
    // setImmediate in Node and React Native: the next turn, with no 1-4 ms timer clamp. Browsers lack it.
    const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
    if (typeof immediate === 'function') immediate(resolve);
    else setTimeout(resolve, 0);
  });
}
