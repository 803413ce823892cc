/**
 * The operator's inspector end to end: a real server on 127.0.0.1 with an admin token and rate
 * limits, two devices of alice (real sync engines on SQLite files, talking HTTP) sharing a
 * space, and the /inspector page in real Chromium. The tablet's network is cut (a loopback
 * gate that resets its connections) while the phone writes in the private and the shared
 * space: the tablet lags in both. A change of an undeclared type is rejected; an edit of the
 * same todo on both devices conflicts when the tablet is back and catches up. A runaway client
 * of bob hits the read limit. Screenshots go to test-results/inspector/; one is copied to
 * docs/inspector.png. Without Chromium the suite is skipped (failed when FERRY_REQUIRE_CHROMIUM=1).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSyncSystem, type SyncError, type SyncSystem } from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from '@ferry/protocol';
import { createServer, defaultSchema, type FerryServer, signDevToken } from '@ferry/server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { chromiumOrSkip, launchChromium } from './support/chromium.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCREENSHOTS = join(ROOT, 'test-results/inspector');
const DOCS_SCREENSHOT = join(ROOT, 'docs/inspector.png');
const SECRET = 'inspector-e2e-secret-long-enough-for-hs256';
const ADMIN_TOKEN = 'inspector-e2e-admin-token-0123456789abcdef';
const UI_TIMEOUT_MS = 15_000;
const chromiumPath = chromiumOrSkip();
/** Reads a user may make a minute: bob's runaway client goes past it, alice's devices never do. */
const PULLS_PER_MINUTE = 40;

/** A network the test can cut: connections through it are reset while it is down. */
interface Gate {
  url: string;
  /** Resets every open connection (kept-alive ones too) and every new one, until {@link restore}. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/** A TCP gate on 127.0.0.1 in front of the server: up, it relays; cut, it resets. */
async function startGate(target: URL): Promise<Gate> {
  const sockets = new Set<Socket>();
  let up = true;
  const server: Server = createTcpServer((client) => {
    if (!up) return void client.resetAndDestroy();
    const upstream = connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    cut() {
      up = false;
      for (const socket of sockets) socket.resetAndDestroy();
    },
    restore() {
      up = true;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe.skipIf(chromiumPath === null)('the inspector in Chromium', () => {
  let dir: string;
  let server: FerryServer;
  let url: string;
  let browser: Browser | undefined;
  let page: Page;
  let phone: SyncSystem;
  let tablet: SyncSystem;
  let socket: WebSocket | undefined;
  let tabletNetwork: Gate;
  let groceries: string;

  const device = async (name: string, apiBaseUrl: string) =>
    createSyncSystem({
      apiBaseUrl,
      getToken: () => signDevToken(SECRET, 'alice', { expiresIn: '1h' }),
      driver: createBetterSqliteDriver(join(dir, `${name}.db`)),
      clientId: name,
      appVersion: name === 'phone' ? '3.1.0' : '3.0.2',
      autoStart: false,
      syncInterval: 0,
      writeDebounceMs: -1,
      retry: { maxRetries: 0 },
    });

  /** Text of the row of table `id` whose cell `column` (1-based) equals `key`, once it matches `pattern`. */
  async function rowOf(id: string, column: number, key: string, pattern: RegExp): Promise<string> {
    const handle = await page.waitForFunction(
      ([table, nth, wanted, source]) => {
        const row = Array.from(document.querySelectorAll(`#${table} tbody tr`)).find(
          (tr) => tr.querySelector(`td:nth-child(${nth})`)?.textContent === wanted,
        );
        return row && new RegExp(source as string).test(row.textContent ?? '') ? row.textContent : null;
      },
      [id, column, key, pattern.source] as const,
      { timeout: UI_TIMEOUT_MS },
    );
    return (await handle.jsonValue()) as string;
  }

  /** The cursor row of `deviceId` in `space` (the shown label), once it matches `pattern` (the page refreshes every 2 s). */
  async function cursorRow(deviceId: string, space: string, pattern: RegExp): Promise<string> {
    const handle = await page.waitForFunction(
      ([id, label, source]) => {
        const row = Array.from(document.querySelectorAll('#cursors tbody tr')).find(
          (tr) =>
            tr.querySelector('td:nth-child(2)')?.textContent === id &&
            tr.querySelector('td:nth-child(3)')?.textContent === label,
        );
        return row && new RegExp(source as string).test(row.textContent ?? '') ? row.textContent : null;
      },
      [deviceId, space, pattern.source] as const,
      { timeout: UI_TIMEOUT_MS },
    );
    return (await handle.jsonValue()) as string;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-inspector-'));
    mkdirSync(SCREENSHOTS, { recursive: true });
    server = await createServer({
      dbPath: join(dir, 'server.db'),
      schema: defaultSchema,
      auth: { secret: SECRET },
      adminToken: ADMIN_TOKEN,
      rateLimit: { pullsPerMinute: PULLS_PER_MINUTE },
    });
    ({ url } = await server.listen({ port: 0, host: '127.0.0.1' }));
    tabletNetwork = await startGate(new URL(url));
    phone = await device('phone', url);
    tablet = await device('tablet', tabletNetwork.url);
    browser = await launchChromium(chromiumPath as string);
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  }, 120_000);

  afterAll(async () => {
    socket?.terminate();
    await browser?.close();
    await phone?.close();
    await tablet?.close();
    await tabletNetwork?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('asks for the admin token and refuses a wrong one', { timeout: 60_000 }, async () => {
    await page.goto(`${url}/inspector`);
    await page.waitForSelector('#login:not([hidden])', { timeout: UI_TIMEOUT_MS });
    await page.fill('#token', 'not-the-admin-token');
    await page.click('#login button');
    await page.waitForFunction(() => document.getElementById('login-error')?.textContent?.includes('refused'), null, {
      timeout: UI_TIMEOUT_MS,
    });
    await page.screenshot({ path: join(SCREENSHOTS, '00-login-refused.png') });
  });

  it('shows the tablet lagging in both spaces while its network is cut, the rejection and its reason, and a runaway client', {
    timeout: 120_000,
  }, async () => {
    // Written before the phone ever talked to the server (which declares "todos", not "todo").
    await phone.collection('todo').insert({ id: 'typo', title: 'in the wrong box' });
    await phone.collection('todos').insert({ id: 'milk', title: 'Buy milk' });
    ({ id: groceries } = await phone.spaces.create({ name: 'Groceries' }));
    await phone.collection('todos').insert({ title: 'Sourdough' }, { space: groceries });
    await phone.sync();
    await tablet.sync();
    expect(await tablet.spaces.list()).toEqual([expect.objectContaining({ id: groceries })]);

    // The tablet's network goes down: its edit stays in its outbox, its sync fails.
    tabletNetwork.cut();
    await tablet.collection('todos').update('milk', { title: 'Buy oat milk' });
    const failed = await tablet.sync().then(
      () => null,
      (error: SyncError) => error,
    );
    expect(failed?.code).toBe('NETWORK_ERROR');
    // Meanwhile the phone writes, in the private space and the shared one.
    await phone.collection('todos').update('milk', { title: 'Buy soy milk' });
    for (const title of ['Walk the dog', 'Call mom', 'Water plants']) await phone.collection('todos').insert({ title });
    for (const title of ['Eggs', 'Apples']) await phone.collection('todos').insert({ title }, { space: groceries });
    await phone.sync();
    expect(await phone.listDeadLetters()).toHaveLength(1);
    // The phone's live socket, as an app in the foreground holds one.
    const token = await signDevToken(SECRET, 'alice', { expiresIn: '1h' });
    socket = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/live`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('The live socket did not open within 15 s')), 15_000);
      socket?.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      socket?.once('error', reject);
    });
    socket.send(JSON.stringify({ type: 'hello', protocolVersion: PROTOCOL_VERSION, token }));
    // A runaway client of bob polls in a loop and runs into the read limit.
    const bob = await signDevToken(SECRET, 'bob', { expiresIn: '1h' });
    const statuses: number[] = [];
    for (let i = 0; i < PULLS_PER_MINUTE + 5; i++) {
      const response = await fetch(`${url}/v1/pull?cursor=0`, {
        headers: { authorization: `Bearer ${bob}`, [PROTOCOL_HEADER]: String(PROTOCOL_VERSION) },
        signal: AbortSignal.timeout(5_000),
      });
      statuses.push(response.status);
      await response.body?.cancel();
    }
    expect(statuses.filter((status) => status === 429)).toHaveLength(5);

    await page.goto(`${url}/inspector#token=${encodeURIComponent(ADMIN_TOKEN)}`);
    const head = await server.storage.currentSeq('alice');
    const sharedHead = await server.storage.currentSeq(groceries);
    expect(await cursorRow('phone', '(private)', new RegExp(`${head}${head}.*caught up`))).toBeTruthy();
    expect(await cursorRow('phone', groceries, new RegExp(`${sharedHead}${sharedHead}.*caught up`))).toBeTruthy();
    // alice's private space: the tablet pulled to 1 and lacks the phone's 4 later writes, for a few seconds now.
    expect(await cursorRow('tablet', '(private)', /\d+ s$|\d+ s ago.*$/)).toMatch(
      new RegExp(`^alicetablet\\(private\\)${head}${head - 4} 4\\d+ s`),
    );
    // The shared space: 2 records behind.
    expect(await cursorRow('tablet', groceries, / 2\d+ s/)).toMatch(new RegExp(`${sharedHead}${sharedHead - 2} 2`));
    // The spaces, with their heads and how far their devices lag.
    expect(await rowOf('spaces', 1, 'alice (private)', /.../)).toMatch(new RegExp(`^alice \\(private\\)${head}`));
    expect(await rowOf('spaces', 1, groceries, new RegExp(`${sharedHead}.*21 2`))).toBeTruthy();
    await page.waitForFunction(
      () => document.querySelector('#recent')?.textContent?.includes('UNKNOWN_ENTITY_TYPE'),
      null,
      { timeout: UI_TIMEOUT_MS },
    );
    const recent = await page.textContent('#recent tbody');
    expect(recent).toContain('undeclared');
    expect(recent).toMatch(/Entity type "todo" is not declared/);
    expect(await page.textContent('#rejections tbody')).toMatch(/undeclaredUNKNOWN_ENTITY_TYPE1/);
    expect(await page.textContent('#devices tbody')).toMatch(/phone.*1UNKNOWN_ENTITY_TYPE3\.1\.0/s);
    expect(await rowOf('ratelimits', 1, 'bob', /reads5/)).toBeTruthy();
    await page.waitForFunction(
      () => /Live sockets1/.test(document.getElementById('process')?.textContent ?? ''),
      null,
      { timeout: UI_TIMEOUT_MS },
    );
    const storage = await page.textContent('#storage');
    expect(storage).toMatch(/DatabaseSQLiteSize\d+(\.\d)? KB/);
    // SQLite commits pushes in groups: the commits so far, and pushes per commit.
    expect(storage).toMatch(/Group commits[1-9]\d* commits · \d+\.\d pushes per commit/);
    // The charts: the phone's two syncs pushed (the tablet's push never got through), and bob's
    // refusals are in the 429 line.
    const series = async (chart: string, key: string) =>
      (await page.getAttribute(`#${chart} path[data-series="${key}"]`, 'data-values'))
        ?.split(',')
        .filter((value) => value !== '')
        .map(Number) ?? [];
    const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
    expect(sum(await series('chart-rates', 'push'))).toBeGreaterThanOrEqual(2);
    expect(sum(await series('chart-rates', 'limited'))).toBe(5);
    expect((await series('chart-latency', 'push-p99')).length).toBeGreaterThan(0);
    // Never a record's contents: titles are on the devices and in the database, not on this page.
    const shown = (await page.textContent('#app')) ?? '';
    expect(shown.match(/.{0,40}(milk|dog|wrong box|sourdough|eggs|apples|groceries).{0,40}/gi)).toBeNull();
    await page.screenshot({ path: join(SCREENSHOTS, '01-tablet-lagging.png'), fullPage: true });
  });

  it('shows the tablet caught up in both spaces after its network is back, and its conflict', {
    timeout: 90_000,
  }, async () => {
    tabletNetwork.restore();
    await tablet.sync();
    const head = await server.storage.currentSeq('alice');
    const sharedHead = await server.storage.currentSeq(groceries);
    expect(await cursorRow('tablet', '(private)', /caught up/)).toContain(`${head}${head}`);
    expect(await cursorRow('tablet', groceries, /caught up/)).toContain(`${sharedHead}${sharedHead}`);
    expect(await rowOf('spaces', 1, groceries, /20 0/)).toBeTruthy();
    await page.waitForFunction(
      () => document.querySelector('#conflicts')?.textContent?.includes('update-update'),
      null,
      { timeout: UI_TIMEOUT_MS },
    );
    expect(await page.textContent('#conflicts tbody')).toMatch(/todosupdate-update1/);
    await page.screenshot({ path: join(SCREENSHOTS, '02-tablet-caught-up.png'), fullPage: true });
    copyFileSync(join(SCREENSHOTS, '02-tablet-caught-up.png'), DOCS_SCREENSHOT);
  });

  it('sorts and filters its tables', { timeout: 60_000 }, async () => {
    await page.fill('[data-filter="cursors"]', 'tablet');
    await page.waitForFunction(() => document.querySelectorAll('#cursors tbody tr').length === 2, null, {
      timeout: UI_TIMEOUT_MS,
    });
    await page.fill('[data-filter="cursors"]', '');
    await page.fill('[data-filter="spaces"]', 'sp_');
    await page.waitForFunction(() => document.querySelectorAll('#spaces tbody tr').length === 1, null, {
      timeout: UI_TIMEOUT_MS,
    });
    await page.fill('[data-filter="spaces"]', '');
    await page.click('#spaces th[data-key="head"]');
    await page.click('#spaces th[data-key="head"]');
    const heads = await page.$$eval('#spaces tbody tr td:nth-child(2)', (cells) =>
      cells.map((cell) => Number(cell.textContent)),
    );
    expect(heads).toEqual([...heads].sort((a, b) => b - a));
    expect(heads.length).toBeGreaterThanOrEqual(2);
    await page.click('#devices th[data-key="deviceId"]');
    await page.click('#devices th[data-key="deviceId"]');
    const order = await page.$$eval('#devices tbody tr td:nth-child(2)', (cells) =>
      cells.map((cell) => cell.textContent),
    );
    expect(order).toEqual(['tablet', 'phone']);
  });
});
