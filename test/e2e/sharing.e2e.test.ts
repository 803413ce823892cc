/**
 * The demo's sharing story end to end, in real Chromium against a real `ferry serve --dev` on
 * 127.0.0.1: three browser contexts are the devices of alice, bob and carol. Alice creates a
 * shared list and shares it with bob (editor) and carol (viewer); bob's edits reach alice live;
 * carol cannot edit, and an edit she forces is refused (FORBIDDEN) into her dead letters;
 * removing bob makes the list leave bob's tab. Screenshots of each step land in
 * test-results/e2e-sharing/ (and docs/sharing.png, the one docs/sharing.md shows).
 *
 * The steps tell one story and run in order.
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
const SCREENSHOTS = join(ROOT, 'test-results/e2e-sharing');
const DOCS_SCREENSHOT = join(ROOT, 'docs/sharing.png');
const STEP_TIMEOUT_MS = 90_000;
const LIST = 'Groceries';
const chromiumPath = chromiumOrSkip();

describe.skipIf(chromiumPath === null)('sharing a list in the Todo demo, in Chromium', () => {
  let server: DemoServer | undefined;
  let browser: Browser | undefined;
  let alice: DemoDevice;
  let bob: DemoDevice;
  let carol: DemoDevice;

  beforeAll(async () => {
    ensureDemoBuilt();
    server = await startDemoServer();
    browser = await launchChromium(chromiumPath!);
    alice = await DemoDevice.open(browser, server.url, 'alice', SCREENSHOTS);
    bob = await DemoDevice.open(browser, server.url, 'bob', SCREENSHOTS);
    carol = await DemoDevice.open(browser, server.url, 'carol', SCREENSHOTS);
    await alice.screenshot('00-sign-in');
    await alice.signIn('alice');
    await bob.signIn('bob');
    await carol.signIn('carol');
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('lets alice create a shared list and share it with bob as editor and carol as viewer', {
    timeout: STEP_TIMEOUT_MS,
  }, async () => {
    // Nothing shared yet: each tab says how to start.
    for (const device of [alice, bob, carol]) await device.page.getByTestId('lists-hint').waitFor();
    await alice.addTodo('Alice private');
    await alice.createList(LIST);
    await expect.poll(() => alice.listLabels()).toContain(`${LIST} · owner`);
    await alice.addTodo('Milk');
    expect(await alice.titles()).toEqual(['Milk']);
    await alice.page.getByTestId('add-member-bob-editor').click();
    await alice.page.getByTestId('add-member-carol-viewer').click();
    await expect
      .poll(() => alice.members(), { timeout: SYNC_TIMEOUT_MS })
      .toEqual(['alice (you) · owner', 'bob · editor', 'carol · viewer']);
    await alice.expectPending(0);
    await alice.screenshot('01-alice-shares-the-list');

    // Each member's tab lists it after its next sync (the grant's commit pokes them), with their role.
    await expect.poll(() => bob.listLabels(), { timeout: SYNC_TIMEOUT_MS }).toContain(`${LIST} · editor`);
    await expect.poll(() => carol.listLabels(), { timeout: SYNC_TIMEOUT_MS }).toContain(`${LIST} · viewer`);
    expect(await bob.page.getByTestId('lists-hint').count()).toBe(0);
    for (const member of [bob, carol]) {
      await member.openList(LIST);
      await member.expectTodos(['Milk']);
      // The private list stays private.
      await member.openList(null);
      expect(await member.titles()).toEqual([]);
      await member.openList(LIST);
    }
    expect(await bob.page.getByTestId('my-role').textContent()).toContain('editor');
    await bob.screenshot('02-bob-sees-the-list');
  });

  it("brings bob's edits to alice's tab live", { timeout: STEP_TIMEOUT_MS }, async () => {
    await bob.editTitle('Milk', 'Oat milk');
    await bob.addTodo('Bread');
    await bob.toggle('Bread');
    // No click, no reload on alice's tab: the live poke makes it pull.
    await alice.expectTodos(['Oat milk', 'Bread']);
    await expect.poll(() => alice.isCompleted('Bread'), { timeout: SYNC_TIMEOUT_MS }).toBe(true);
    await carol.expectTodos(['Oat milk', 'Bread']);
    await alice.openList(null);
    expect(await alice.titles()).toEqual(['Alice private']);
    await alice.openList(LIST);
    const shot = await alice.screenshot('03-bobs-edits-reach-alice');
    if (!existsSync(DOCS_SCREENSHOT) || process.env.FERRY_UPDATE_DEMO_SCREENSHOT === '1') {
      copyFileSync(shot, DOCS_SCREENSHOT);
    }
  });

  it('shows carol the list read-only, and dead-letters an edit she forces with FORBIDDEN', {
    timeout: STEP_TIMEOUT_MS,
  }, async () => {
    expect(await carol.page.getByTestId('my-role').textContent()).toContain('viewer');
    expect(await carol.page.getByTestId('read-only-notice').textContent()).toContain('Read-only');
    expect(await carol.page.getByTestId('new-todo-input').isEditable()).toBe(false);
    expect(await carol.page.getByTestId('add-todo').getAttribute('aria-disabled')).toBe('true');
    expect(await carol.row('Oat milk').locator('[data-testid^="todo-toggle-"] input').isDisabled()).toBe(true);
    // No member management for a viewer.
    expect(await carol.page.locator('[data-testid^="add-member-"], [data-testid^="remove-member-"]').count()).toBe(0);
    await carol.screenshot('04-carol-read-only');

    await carol.page.getByTestId('force-edit').click();
    const tab = carol.page.getByTestId('tab-dead-letters');
    await expect.poll(() => tab.textContent(), { timeout: SYNC_TIMEOUT_MS }).toBe('Dead letters (1)');
    // The refused edit is undone on carol's device: the server's copy comes back.
    await carol.expectTodos(['Oat milk', 'Bread']);
    await tab.click();
    const letters = carol.page.getByTestId('dead-letters');
    await expect.poll(() => letters.textContent()).toContain('FORBIDDEN');
    expect(await letters.textContent()).toContain('(edited by carol)');
    await carol.screenshot('05-carol-edit-refused');
    await carol.page.getByTestId('tab-todos').click();
    // Nobody else ever saw it.
    await bob.page.reload();
    await bob.openList(LIST);
    await bob.expectTodos(['Oat milk', 'Bread']);
    expect(await alice.titles()).toEqual(expect.not.arrayContaining([expect.stringContaining('edited by carol')]));
  });

  it("removes bob: the list leaves bob's tab, and stays with alice and carol", {
    timeout: STEP_TIMEOUT_MS,
  }, async () => {
    await bob.addTodo('Eggs');
    await alice.expectTodos(['Oat milk', 'Bread', 'Eggs']);
    await alice.page.getByTestId('remove-member-bob').click();
    await expect
      .poll(() => alice.members(), { timeout: SYNC_TIMEOUT_MS })
      .toEqual(['alice (you) · owner', 'carol · viewer']);
    await alice.expectPending(0);

    // Bob's next sync (the removal's commit pokes him one last time) purges the list.
    await expect.poll(() => bob.listLabels(), { timeout: SYNC_TIMEOUT_MS }).not.toContain(`${LIST} · editor`);
    await expect.poll(() => bob.page.getByTestId('list-lost').textContent()).toContain(LIST);
    // Back on his private list, which never held the shared todos.
    expect(await bob.titles()).toEqual([]);
    await bob.screenshot('06-bob-removed');
    // A reload reads bob's database afresh: the list is gone from it, not just hidden.
    await bob.page.reload();
    await bob.page.getByTestId('list-picker').waitFor();
    expect(await bob.listLabels()).toEqual(['My todos (private)']);

    await alice.expectTodos(['Oat milk', 'Bread', 'Eggs']);
    await carol.expectTodos(['Oat milk', 'Bread', 'Eggs']);
    await alice.screenshot('07-alice-after-removing-bob');
    for (const device of [alice, bob, carol]) expect(device.pageErrors).toEqual([]);
  });
});
