/**
 * Live pokes end to end: device B hears device A's write through the server's WebSocket
 * without polling, and a lost poke is repaired by the interval pull or by the reconnect pull.
 */

import type { AddressInfo, Socket } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import type { WebSocketFactory, WebSocketLike } from '@ferry/client';
import { LiveConnection, liveUrlFrom } from '@ferry/client/engine';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ManualTimers } from '../../packages/client/src/testing/ManualTimers.js';
import { startTestServer } from '../../packages/server/src/testing/testServer.js';
import { type Device, type Harness, nextSync, startHarness } from '../support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

const realSocket: WebSocketFactory = (url) => new WebSocket(url);

/** A socket factory whose sockets swallow pokes (a lossy network), and can be cut. */
function lossySockets() {
  const sockets: WebSocket[] = [];
  let dropped = 0;
  const factory: WebSocketFactory = (url) => {
    const ws = new WebSocket(url);
    sockets.push(ws);
    const wrapper: WebSocketLike = {
      onopen: null,
      onmessage: null,
      onclose: null,
      onerror: null,
      send: (data) => ws.send(data),
      close: (code, reason) => ws.close(code, reason),
    };
    ws.onopen = (event) => wrapper.onopen?.(event);
    ws.onmessage = (event) => {
      if (String(event.data).includes('"poke"')) dropped++;
      else wrapper.onmessage?.({ data: event.data });
    };
    ws.onclose = (event) => wrapper.onclose?.({ code: event.code, reason: event.reason });
    ws.onerror = (event) => wrapper.onerror?.(event);
    return wrapper;
  };
  return { factory, sockets, dropped: () => dropped };
}

/** Polls `check` every 10 ms until it is true; fails after 5 s. */
async function eventually(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`Timed out waiting for ${what}`);
}

async function liveDevice(name: string, webSocket: WebSocketFactory, extra: object = {}): Promise<Device> {
  const device = await h.device(name, {
    config: { autoStart: true, live: { url: liveUrlFrom(h.url), webSocket }, ...extra },
  });
  await eventually(() => device.system.liveConnection?.status === 'open', `${name} live channel open`);
  return device;
}

async function writeOnA(id: string): Promise<void> {
  const a = await h.device(`a-${id}`);
  await a.system.collection('todos').insert({ id, title: id });
  await a.system.forceSync();
}

describe('live pokes', () => {
  it('device B sees A’s write through a poke, with no interval and no manual sync', async () => {
    const b = await liveDevice('b', realSocket);
    await writeOnA('from-a');
    await eventually(async () => (await b.todos()).some((todo) => todo.id === 'from-a'), 'B to pull the write');
  });

  it('repairs a lost poke with the interval pull', async () => {
    const timers = new ManualTimers();
    const lossy = lossySockets();
    const b = await liveDevice('b', lossy.factory, { timers, syncInterval: 60_000 });
    await writeOnA('lost-1');
    await eventually(() => lossy.dropped() === 1, 'the poke to be dropped');
    expect(await b.todos()).toEqual([]);
    const synced = nextSync(b.system.syncManager);
    timers.advance(60_000);
    await synced;
    expect((await b.todos()).map((todo) => todo.id)).toEqual(['lost-1']);
  });

  it('repairs a lost poke with the pull after a reconnect', async () => {
    const timers = new ManualTimers();
    const lossy = lossySockets();
    const b = await liveDevice('b', lossy.factory, { timers });
    await writeOnA('lost-2');
    await eventually(() => lossy.dropped() === 1, 'the poke to be dropped');
    lossy.sockets.at(-1)?.terminate();
    await eventually(() => b.system.liveConnection?.status === 'waiting', 'B to notice the cut');
    const synced = nextSync(b.system.syncManager);
    timers.advance(1000); // the first reconnect waits at most the base delay
    await synced;
    expect(b.system.liveConnection?.status).toBe('open');
    expect((await b.todos()).map((todo) => todo.id)).toEqual(['lost-2']);
  });

  it('closes the channel while offline or backgrounded and reopens it after', async () => {
    const b = await liveDevice('b', realSocket);
    const { online, appActive } = b.system.syncManager;
    online.set(false);
    expect(b.system.liveConnection?.status).toBe('stopped');
    online.set(true);
    await eventually(() => b.system.liveConnection?.status === 'open', 'reopen after online');
    appActive.set(false);
    expect(b.system.liveConnection?.status).toBe('stopped');
    expect(b.system.syncManager.getState().paused).toBe('background');
  });
});

describe('LiveConnection reconnects', () => {
  it('backs off exponentially with jitter, capped, while the server is unreachable', async () => {
    const ts = await startTestServer();
    const { url } = await ts.server.listen({ port: 0, host: '127.0.0.1' });
    await ts.close(); // nothing listens on that port any more
    const timers = new ManualTimers();
    const live = new LiveConnection({
      url: liveUrlFrom(url),
      webSocket: realSocket,
      timers,
      random: () => 1,
      baseDelayMs: 1000,
      maxDelayMs: 5000,
    });
    const waits: number[] = [];
    live.subscribeToStatus((status) => {
      if (status === 'waiting') waits.push(timers.delays[0] ?? -1);
    });
    live.start();
    for (let attempt = 1; attempt <= 5; attempt++) {
      await eventually(() => waits.length === attempt, `failure ${attempt}`);
      timers.advance(waits[attempt - 1] ?? 0);
    }
    live.stop();
    expect(waits).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(timers.delays).toEqual([]);
  });
});

describe('LiveConnection bounded waits', () => {
  it('gives up on a server that accepts the connection but never answers, then retries', async () => {
    const accepted: Socket[] = [];
    const silent = createNetServer((socket) => {
      accepted.push(socket.on('error', () => undefined));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const timers = new ManualTimers();
    const live = new LiveConnection({ url: `ws://127.0.0.1:${port}/v1/live`, webSocket: realSocket, timers });
    try {
      live.start();
      await eventually(() => timers.delays.length === 1, 'the connect timer');
      expect(live.status).toBe('connecting');
      timers.advance(10_000);
      expect(live.status).toBe('waiting');
    } finally {
      live.stop();
      for (const socket of accepted) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('treats an open channel that falls silent as dead and reconnects', async () => {
    const timers = new ManualTimers();
    const live = new LiveConnection({
      url: liveUrlFrom(h.url),
      webSocket: realSocket,
      timers,
      getToken: () => h.token('alice'),
    });
    const readies: number[] = [];
    live.subscribe((event) => {
      if (event.type === 'ready') readies.push(event.cursor);
    });
    live.start();
    await eventually(() => live.status === 'open', 'open');
    timers.advance(75_000); // no heartbeat within the idle limit (the server's come every 30 s)
    expect(live.status).toBe('waiting');
    timers.advance(1000);
    await eventually(() => readies.length === 2, 'a second ready after reconnecting');
    live.stop();
  });
});

describe('LiveConnection token expiry', () => {
  it('reconnects at once with a refreshed token when the server closes for expiry', async () => {
    const ts = await startTestServer({ live: { heartbeatMs: 20 } });
    try {
      const { url } = await ts.server.listen({ port: 0, host: '127.0.0.1' });
      const asked: boolean[] = [];
      const live = new LiveConnection({
        url: liveUrlFrom(url),
        webSocket: realSocket,
        getToken: ({ forceRefresh }) => {
          asked.push(forceRefresh);
          return ts.token('alice', { expiresIn: 60 });
        },
      });
      const events: string[] = [];
      live.subscribe((event) => events.push(event.type));
      live.start();
      await eventually(() => live.status === 'open', 'open');
      ts.clock.now += 91_000; // past expiry plus the server's 30 s tolerance
      await eventually(() => events.length === 2 && live.status === 'open', 'a second ready');
      expect(asked).toEqual([false, true]);
      live.stop();
      expect(live.status).toBe('stopped');
    } finally {
      await ts.close();
    }
  });
});
