/**
 * The operator's inspector end to end: a real server on 127.0.0.1 with an admin token, two
 * devices of alice (real sync engines on SQLite files, talking HTTP), and the /inspector page in
 * real Chromium. The tablet lags while the phone writes, a change of an undeclared type is
 * rejected, an offline edit of the same todo on both devices conflicts; then the tablet
 * catches up. Screenshots go to test-results/inspector/; one is copied to docs/inspector.png.
 * Without Chromium the suite is skipped (failed when FERRY_REQUIRE_CHROMIUM=1).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSyncSystem, type SyncSystem } from '@ferry/client';
import { createBetterSqliteDriver } from '@ferry/client/better-sqlite3';
import { PROTOCOL_VERSION } from '@ferry/protocol';
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

describe.skipIf(chromiumPath === null)('the inspector in Chromium', () => {
  let dir: string;
  let server: FerryServer;
  let url: string;
  let browser: Browser | undefined;
  let page: Page;
  let phone: SyncSystem;
  let tablet: SyncSystem;
  let socket: WebSocket | undefined;

  const device = async (name: string) =>
    createSyncSystem({
      apiBaseUrl: url,
      getToken: () => signDevToken(SECRET, 'alice', { expiresIn: '1h' }),
      driver: createBetterSqliteDriver(join(dir, `${name}.db`)),
      clientId: name,
      appVersion: name === 'phone' ? '3.1.0' : '3.0.2',
      autoStart: false,
      syncInterval: 0,
      writeDebounceMs: -1,
    });

  /** The text of the cursor row of `deviceId`, once it matches `pattern` (the page refreshes every 2 s). */
  async function cursorRow(deviceId: string, pattern: RegExp): Promise<string> {
    const handle = await page.waitForFunction(
      ([id, source]) => {
        const row = Array.from(document.querySelectorAll('#cursors tbody tr')).find(
          (tr) => tr.querySelector('td:nth-child(2)')?.textContent === id,
        );
        return row && new RegExp(source as string).test(row.textContent ?? '') ? row.textContent : null;
      },
      [deviceId, pattern.source],
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
    });
    ({ url } = await server.listen({ port: 0, host: '127.0.0.1' }));
    phone = await device('phone');
    tablet = await device('tablet');
    browser = await launchChromium(chromiumPath as string);
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  }, 120_000);

  afterAll(async () => {
    socket?.terminate();
    await browser?.close();
    await phone?.close();
    await tablet?.close();
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

  it('shows the tablet lagging while the phone writes, with the rejection and its reason', {
    timeout: 90_000,
  }, async () => {
    // Written before the phone ever talked to the server (which declares "todos", not "todo").
    await phone.collection('todo').insert({ id: 'typo', title: 'in the wrong box' });
    await phone.collection('todos').insert({ id: 'milk', title: 'Buy milk' });
    await phone.sync();
    await tablet.sync();
    // The tablet goes quiet (offline) while the phone keeps writing.
    await tablet.collection('todos').update('milk', { title: 'Buy oat milk' });
    await phone.collection('todos').update('milk', { title: 'Buy soy milk' });
    for (const title of ['Walk the dog', 'Call mom', 'Water plants']) await phone.collection('todos').insert({ title });
    await phone.sync();
    expect(await phone.listDeadLetters()).toHaveLength(1);
    // The phone's live socket, as an app in the foreground holds one.
    socket = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/live`);
    const token = await signDevToken(SECRET, 'alice', { expiresIn: '1h' });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('The live socket did not open within 5 s')), 5_000);
      socket?.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      socket?.once('error', reject);
    });
    socket.send(JSON.stringify({ type: 'hello', protocolVersion: PROTOCOL_VERSION, token }));

    await page.goto(`${url}/inspector#token=${encodeURIComponent(ADMIN_TOKEN)}`);
    const head = await server.storage.currentSeq('alice');
    expect(await cursorRow('phone', new RegExp(`${head}${head}.*caught up`))).toContain('(private)');
    const lagging = await cursorRow('tablet', /\d+ \d+ ?[^c]*$/);
    expect(lagging).toMatch(new RegExp(`^alicetablet\\(private\\)${head}1.*4`));
    await page.waitForFunction(
      () => document.querySelector('#recent')?.textContent?.includes('UNKNOWN_ENTITY_TYPE'),
      null,
      {
        timeout: UI_TIMEOUT_MS,
      },
    );
    const recent = await page.textContent('#recent tbody');
    expect(recent).toContain('undeclared');
    expect(recent).toMatch(/Entity type "todo" is not declared/);
    expect(await page.textContent('#devices tbody')).toMatch(/phone.*1UNKNOWN_ENTITY_TYPE3\.1\.0/s);
    await page.waitForFunction(
      () => /Live sockets1/.test(document.getElementById('process')?.textContent ?? ''),
      null,
      {
        timeout: UI_TIMEOUT_MS,
      },
    );
    // Never a record's contents: titles are on the devices and in the database, not on this page.
    expect(await page.textContent('body')).not.toMatch(/milk|dog|wrong box/i);
    await page.screenshot({ path: join(SCREENSHOTS, '01-tablet-lagging.png'), fullPage: true });
  });

  it('shows the tablet caught up after it syncs, and its conflict', { timeout: 90_000 }, async () => {
    await tablet.sync();
    const head = await server.storage.currentSeq('alice');
    expect(await cursorRow('tablet', /caught up/)).toContain(`${head}${head}`);
    await page.waitForFunction(
      () => document.querySelector('#conflicts')?.textContent?.includes('update-update'),
      null,
      {
        timeout: UI_TIMEOUT_MS,
      },
    );
    expect(await page.textContent('#conflicts tbody')).toMatch(/todosupdate-update1/);
    await page.screenshot({ path: join(SCREENSHOTS, '02-tablet-caught-up.png'), fullPage: true });
    copyFileSync(join(SCREENSHOTS, '02-tablet-caught-up.png'), DOCS_SCREENSHOT);
  });

  it('sorts and filters its tables', { timeout: 60_000 }, async () => {
    await page.fill('[data-filter="cursors"]', 'tablet');
    await page.waitForFunction(() => document.querySelectorAll('#cursors tbody tr').length === 1, null, {
      timeout: UI_TIMEOUT_MS,
    });
    await page.fill('[data-filter="cursors"]', '');
    await page.click('#devices th[data-key="deviceId"]');
    await page.click('#devices th[data-key="deviceId"]');
    const order = await page.$$eval('#devices tbody tr td:nth-child(2)', (cells) =>
      cells.map((cell) => cell.textContent),
    );
    expect(order).toEqual(['tablet', 'phone']);
  });
});
