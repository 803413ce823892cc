/**
 * The Todo demo end to end, in real Chromium against a real server on 127.0.0.1: two
 * browser contexts are two devices of alice, a third is bob. Each step leaves screenshots in
 * test-results/e2e/. Without Chromium the suite is skipped (failed when FERRY_REQUIRE_CHROMIUM=1).
 *
 * The steps tell one story and run in order: each starts from the todos the previous one left.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumOrSkip, launchChromium } from './support/chromium.js';
import { DemoDevice, SYNC_TIMEOUT_MS } from './support/DemoDevice.js';
import { type DemoServer, ensureDemoBuilt, startDemoServer } from './support/demoServer.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCREENSHOTS = join(ROOT, 'test-results/e2e');
const README_SCREENSHOT = join(ROOT, 'docs/demo.png');
const STEP_TIMEOUT_MS = 90_000;
const chromiumPath = chromiumOrSkip();

describe.skipIf(chromiumPath === null)('the Todo demo in Chromium', () => {
  let server: DemoServer | undefined;
  let browser: Browser | undefined;
  let a: DemoDevice;
  let b: DemoDevice;
  let bob: DemoDevice;

  beforeAll(async () => {
    ensureDemoBuilt();
    server = await startDemoServer();
    browser = await launchChromium(chromiumPath!);
    a = await DemoDevice.open(browser, server.url, 'alice-A', SCREENSHOTS);
    b = await DemoDevice.open(browser, server.url, 'alice-B', SCREENSHOTS);
    bob = await DemoDevice.open(browser, server.url, 'bob', SCREENSHOTS);
    await a.screenshot('00-sign-in');
    await a.signIn('alice');
    await b.signIn('alice');
    await bob.signIn('bob');
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows a todo added on device A on device B without a reload', { timeout: STEP_TIMEOUT_MS }, async () => {
    await a.addTodo('Buy milk');
    await b.expectTodos(['Buy milk']);
    await a.expectTodos(['Buy milk']);
    await b.screenshot('01-added-on-A-seen-on-B');
  });

  it('converges offline edits of one todo by last-write-wins', { timeout: STEP_TIMEOUT_MS }, async () => {
    for (const device of [a, b]) {
      await device.chooseStrategy('last-write-wins');
      await device.setOffline(true);
    }
    await a.editTitle('Buy milk', 'Buy oat milk');
    await a.addTodo('Walk the dog');
    // B edits after A: its write carries the later clock, so it must win everywhere.
    await b.editTitle('Buy milk', 'Buy soy milk');
    await b.addTodo('Call mom');
    await a.expectPending(2);
    await b.expectPending(2);
    await a.screenshot('02-offline-edits');
    await b.screenshot('02-offline-edits');

    await a.setOffline(false);
    await a.expectTodos(['Buy oat milk', 'Walk the dog']);
    await b.setOffline(false);
    for (const device of [a, b]) await device.expectTodos(['Buy soy milk', 'Walk the dog', 'Call mom']);
    await a.screenshot('03-converged-last-write-wins');
  });

  it('merges field by field, the later write of each field winning', { timeout: STEP_TIMEOUT_MS }, async () => {
    for (const device of [a, b]) {
      await device.chooseStrategy('merge');
      await device.setOffline(true);
    }
    // A's record is written last (the toggle), but B's title is later than A's: last-write-wins
    // would keep "Call mom today"; a merge keeps B's title and A's toggle.
    await a.editTitle('Call mom', 'Call mom today');
    await b.editTitle('Call mom', 'Call mom back');
    await a.toggle('Call mom today');
    await a.setOffline(false);
    await a.expectTodos(['Buy soy milk', 'Walk the dog', 'Call mom today']);
    await b.setOffline(false);
    for (const device of [a, b]) {
      await device.expectTodos(['Buy soy milk', 'Walk the dog', 'Call mom back']);
      await expect.poll(() => device.isCompleted('Call mom back'), { timeout: SYNC_TIMEOUT_MS }).toBe(true);
    }
    await b.screenshot('04-converged-merge');
  });

  it('parks a manual conflict on one device, settles it there, and syncs the result', {
    timeout: STEP_TIMEOUT_MS,
  }, async () => {
    for (const device of [a, b]) {
      await device.chooseStrategy('manual');
      // Only the app's switch this time: if it let a request through, B would see A's edit
      // before making its own, and there would be no conflict to park.
      await device.setSwitch(true);
    }
    await a.editTitle('Walk the dog', 'Walk the dog at 7');
    await b.editTitle('Walk the dog', 'Walk the dog at 8');
    await a.setSwitch(false);
    await a.expectTodos(['Buy soy milk', 'Walk the dog at 7', 'Call mom back']);
    await b.setSwitch(false);

    const inboxTab = b.page.getByTestId('tab-conflicts');
    await expect.poll(() => inboxTab.textContent(), { timeout: SYNC_TIMEOUT_MS }).toBe('Conflicts (1)');
    // Parked, B keeps its own version meanwhile, and A's is untouched.
    expect(await b.titles()).toContain('Walk the dog at 8');
    expect(await a.titles()).toContain('Walk the dog at 7');
    await inboxTab.click();
    await b.screenshot('05-conflict-inbox');
    await b.page.locator('[data-testid^="conflict-item-"]').filter({ hasText: 'Walk the dog' }).first().click();
    await expect.poll(() => b.page.getByTestId('pick-title-server').textContent()).toBe('"Walk the dog at 7"');
    await b.page.getByTestId('pick-title-local').click();
    const resolution = await b.screenshot('06-conflict-field-by-field');
    if (!existsSync(README_SCREENSHOT) || process.env.FERRY_UPDATE_DEMO_SCREENSHOT === '1') {
      copyFileSync(resolution, README_SCREENSHOT);
    }
    await b.page.getByTestId('resolve-merged').click();
    await expect.poll(() => inboxTab.textContent(), { timeout: SYNC_TIMEOUT_MS }).toBe('Conflicts (0)');
    await b.page.getByTestId('tab-todos').click();
    for (const device of [b, a]) await device.expectTodos(['Buy soy milk', 'Walk the dog at 8', 'Call mom back']);
    expect(await a.page.getByTestId('tab-conflicts').textContent()).toBe('Conflicts (0)');
    await a.screenshot('07-manual-resolution-synced');
  });

  it('keeps pending changes across a reload while offline, and syncs them when back online', {
    timeout: STEP_TIMEOUT_MS,
  }, async () => {
    // The app's offline shell (a service worker) must be in charge before the network goes.
    await expect
      .poll(() => a.page.evaluate(() => navigator.serviceWorker.controller !== null), { timeout: 10_000 })
      .toBe(true);
    await a.setOffline(true);
    await a.addTodo('Water the plants');
    await a.toggle('Buy soy milk');
    await a.expectPending(2);
    // No network at all: the page comes from the offline shell, the data from IndexedDB.
    await a.page.reload();
    expect(
      await a.page.evaluate(() =>
        fetch('/health').then(
          () => 'reached the server',
          () => 'no network',
        ),
      ),
    ).toBe('no network');
    await expect.poll(() => a.page.getByTestId('online-status').textContent(), { timeout: 10_000 }).toBe('Offline');
    await a.expectPending(2);
    expect(await a.titles()).toContain('Water the plants');
    expect(await a.isCompleted('Buy soy milk')).toBe(true);
    expect(await b.titles()).not.toContain('Water the plants');
    await a.screenshot('08-reloaded-offline');

    await a.setOffline(false);
    const all = ['Buy soy milk', 'Walk the dog at 8', 'Call mom back', 'Water the plants'];
    for (const device of [a, b]) await device.expectTodos(all);
    await expect.poll(() => b.isCompleted('Buy soy milk'), { timeout: SYNC_TIMEOUT_MS }).toBe(true);
    await b.screenshot('09-reload-synced');

    await b.remove('Water the plants');
    for (const device of [a, b]) await device.expectTodos(all.filter((title) => title !== 'Water the plants'));
  });

  it('filters open / done / due soon with live counts, and sorts by two keys', {
    timeout: STEP_TIMEOUT_MS,
  }, async () => {
    const chip = (device: DemoDevice, key: string) => device.page.getByTestId(`filter-${key}`);
    const chipText = (device: DemoDevice, key: string) => chip(device, key).textContent();
    // A holds: Buy soy milk (done), Walk the dog at 8 (open), Call mom back (done).
    await a.page.getByTestId('new-todo-due').click();
    expect(await a.page.getByTestId('new-todo-due').textContent()).toBe('Due tomorrow');
    await a.addTodo('Pay rent');
    for (const [key, text] of [
      ['all', 'All (4)'],
      ['open', 'Open (2)'],
      ['done', 'Done (2)'],
      ['due-soon', 'Due soon (1)'],
    ]) {
      await expect.poll(() => chipText(a, key as string), { timeout: SYNC_TIMEOUT_MS }).toBe(text);
    }
    await chip(a, 'due-soon').click();
    await expect.poll(() => a.titles()).toEqual(['Pay rent']);
    expect(await a.page.locator('[data-testid^="todo-due-"]').allInnerTexts()).toEqual(['due tomorrow']);
    await chip(a, 'done').click();
    await expect.poll(() => a.titles()).toEqual(['Buy soy milk', 'Call mom back']);
    await chip(a, 'open').click();
    // Open first, then the order added: the older todo leads.
    await expect.poll(() => a.titles()).toEqual(['Walk the dog at 8', 'Pay rent']);
    await a.page.getByTestId('sort-due').click();
    // Due date (undated last), then title.
    await expect.poll(() => a.titles()).toEqual(['Pay rent', 'Walk the dog at 8']);
    await a.screenshot('10-filters-and-sort');
    // Counts follow data that a sync brings in, and a write that leaves a filter.
    await expect.poll(() => chipText(b, 'due-soon'), { timeout: SYNC_TIMEOUT_MS }).toBe('Due soon (1)');
    await b.toggle('Pay rent');
    await expect.poll(() => chipText(a, 'due-soon'), { timeout: SYNC_TIMEOUT_MS }).toBe('Due soon (0)');
    await expect.poll(() => a.titles(), { timeout: SYNC_TIMEOUT_MS }).toEqual(['Walk the dog at 8']);
    expect(await chipText(a, 'done')).toBe('Done (3)');
    await chip(a, 'all').click();
    await a.page.getByTestId('sort-order').click();
    await a.expectTodos(['Buy soy milk', 'Walk the dog at 8', 'Call mom back', 'Pay rent']);
  });

  it("never shows alice's todos to bob, nor bob's to alice", { timeout: STEP_TIMEOUT_MS }, async () => {
    await bob.addTodo('Bob only');
    await bob.expectTodos(['Bob only']);
    await bob.page.reload();
    await bob.expectTodos(['Bob only']);
    for (const device of [a, b]) expect(await device.titles()).not.toContain('Bob only');
    await bob.screenshot('11-bob-isolated');
  });

  it('moves a change the server refuses to the dead letters, where it no longer blocks the queue', {
    timeout: STEP_TIMEOUT_MS,
  }, async () => {
    const tab = bob.page.getByTestId('tab-dead-letters');
    await tab.click();
    await bob.page.getByTestId('save-refused-todo').click();
    await expect.poll(() => tab.textContent(), { timeout: SYNC_TIMEOUT_MS }).toBe('Dead letters (1)');
    await expect.poll(() => bob.page.getByTestId('dead-letters').textContent()).toContain('VALIDATION_ERROR');
    await bob.screenshot('12-dead-letter');
    await bob.page.getByTestId('tab-todos').click();
    await bob.addTodo('Bob again');
    await bob.expectPending(0);
    await bob.page.getByTestId('tab-dead-letters').click();
    await bob.page.locator('[data-testid^="dead-letter-discard-"]').click();
    await expect.poll(() => tab.textContent(), { timeout: SYNC_TIMEOUT_MS }).toBe('Dead letters (0)');
    for (const device of [a, b, bob]) expect(device.pageErrors).toEqual([]);
  });
});
