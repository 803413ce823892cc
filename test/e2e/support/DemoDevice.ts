/**
 * One device of the demo: a browser context (its own storage, its own network switch) with
 * one page of the Todo app, and the gestures a user makes on it. Every wait is bounded.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';

/** How long a synced change may take to show up on another device. */
export const SYNC_TIMEOUT_MS = 20_000;
const UI_TIMEOUT_MS = 10_000;

/** A device driving the Todo app in its own browser context. */
export class DemoDevice {
  readonly name: string;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Uncaught errors of the page: a test expects none. */
  readonly pageErrors: string[] = [];
  readonly #screenshots: string;

  private constructor(name: string, context: BrowserContext, page: Page, screenshots: string) {
    this.name = name;
    this.context = context;
    this.page = page;
    this.#screenshots = screenshots;
    page.on('pageerror', (error) => this.pageErrors.push(error.message));
  }

  /** Opens the app at `baseUrl` (loopback only) in a fresh context. */
  static async open(browser: Browser, baseUrl: string, name: string, screenshots: string): Promise<DemoDevice> {
    if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(baseUrl))
      throw new Error(`e2e devices only talk to 127.0.0.1, not ${baseUrl}`);
    const context = await browser.newContext({ viewport: { width: 760, height: 900 } });
    // Nothing but the demo server: any other address fails at once instead of leaving the machine.
    await context.route(/^(?!http:\/\/127\.0\.0\.1:|ws:\/\/127\.0\.0\.1:|data:|blob:)/, (route) => route.abort());
    context.setDefaultTimeout(UI_TIMEOUT_MS);
    const device = new DemoDevice(name, context, await context.newPage(), screenshots);
    mkdirSync(screenshots, { recursive: true });
    await device.page.goto(baseUrl);
    return device;
  }

  async signIn(user: string): Promise<void> {
    await this.page.getByTestId(`sign-in-${user}`).click();
    // Locator waits, not expect.poll: sign-in also runs in beforeAll, outside any test.
    await this.page
      .getByTestId('signed-in-user')
      .filter({ hasText: `${user}'s todos` })
      .waitFor();
  }

  async addTodo(title: string): Promise<void> {
    await this.page.getByTestId('new-todo-input').fill(title);
    await this.page.getByTestId('add-todo').click();
    await expect.poll(() => this.titles(), { timeout: UI_TIMEOUT_MS }).toContain(title);
  }

  /** Titles of the todos on screen, in list order. */
  async titles(): Promise<string[]> {
    return this.page.locator('[data-testid^="todo-title-"]').allInnerTexts();
  }

  /** The row of the todo titled `title`. */
  row(title: string): Locator {
    return this.page
      .locator('[data-testid^="todo-row-"]')
      .filter({ has: this.page.locator('[data-testid^="todo-title-"]').getByText(title, { exact: true }) });
  }

  async editTitle(from: string, to: string): Promise<void> {
    await this.row(from).locator('[data-testid^="todo-title-"]').click();
    await this.page.getByTestId('todo-edit-input').fill(to);
    await this.page.getByTestId('todo-save').click();
    await expect.poll(() => this.titles(), { timeout: UI_TIMEOUT_MS }).toContain(to);
  }

  async toggle(title: string): Promise<void> {
    await this.row(title).locator('[data-testid^="todo-toggle-"] input').click();
  }

  async remove(title: string): Promise<void> {
    await this.row(title).locator('[data-testid^="todo-delete-"]').click();
    await expect.poll(() => this.titles(), { timeout: UI_TIMEOUT_MS }).not.toContain(title);
  }

  async isCompleted(title: string): Promise<boolean> {
    return this.row(title).locator('[data-testid^="todo-toggle-"] input').isChecked();
  }

  /** The number in "N pending changes". */
  async pending(): Promise<number> {
    const text = (await this.page.getByTestId('pending-count').textContent()) ?? '';
    return Number(/^(\d+)/.exec(text)?.[1] ?? Number.NaN);
  }

  /** Waits (bounded) until the pending-change count reads `count`. */
  async expectPending(count: number): Promise<void> {
    await expect.poll(() => this.pending(), { timeout: UI_TIMEOUT_MS }).toBe(count);
  }

  /** Offline for real (no network in the context) and in the app (its switch), or back. */
  async setOffline(offline: boolean): Promise<void> {
    await this.context.setOffline(offline);
    await this.setSwitch(offline);
  }

  /** Flips only the app's "Work offline" switch. */
  async setSwitch(offline: boolean): Promise<void> {
    const input = this.page.getByTestId('offline-switch').locator('input');
    if ((await input.isChecked()) !== offline) await input.click();
    await expect
      .poll(() => this.page.getByTestId('online-status').textContent(), { timeout: UI_TIMEOUT_MS })
      .toBe(offline ? 'Offline' : 'Online');
  }

  async chooseStrategy(strategy: string): Promise<void> {
    await this.page.getByTestId('tab-settings').click();
    await this.page.getByTestId(`strategy-${strategy}`).click();
    await expect
      .poll(() => this.page.getByTestId(`strategy-${strategy}`).getAttribute('aria-checked'), {
        timeout: UI_TIMEOUT_MS,
      })
      .toBe('true');
    await this.page.getByTestId('tab-todos').click();
  }

  /** Creates a shared list named `name` (the app then shows it). */
  async createList(name: string): Promise<void> {
    await this.page.getByTestId('new-list-input').fill(name);
    await this.page.getByTestId('create-list').click();
    await this.page.getByTestId('share-panel').filter({ hasText: name }).waitFor();
  }

  /** The labels of the list chips ("My todos (private)", "Groceries · editor", …). */
  async listLabels(): Promise<string[]> {
    return this.page.locator('[data-testid^="list-"][role="tab"]').allInnerTexts();
  }

  /** Shows the shared list named `name`, or the private list for null. */
  async openList(name: string | null): Promise<void> {
    if (name === null) {
      await this.page.getByTestId('list-private').click();
      await this.page.getByTestId('share-panel').waitFor({ state: 'detached' });
      return;
    }
    await this.page
      .locator('[data-testid^="list-sp_"]')
      .filter({ hasText: `${name} · ` })
      .click();
    await this.page.getByTestId('share-panel').filter({ hasText: name }).waitFor();
  }

  /** The member lines of the shown shared list ("bob · editor"). */
  async members(): Promise<string[]> {
    return this.page.getByTestId('member-label').allInnerTexts();
  }

  /** Waits until this device has pushed everything and shows exactly `titles` (any order). */
  async expectTodos(titles: string[]): Promise<void> {
    await expect
      .poll(async () => (await this.titles()).sort(), { timeout: SYNC_TIMEOUT_MS })
      .toEqual([...titles].sort());
    await expect.poll(() => this.pending(), { timeout: SYNC_TIMEOUT_MS }).toBe(0);
  }

  /** Saves a screenshot as `<step>-<device>.png`; returns its path. */
  async screenshot(step: string): Promise<string> {
    const path = join(this.#screenshots, `${step}-${this.name}.png`);
    await this.page.screenshot({ path, fullPage: true });
    return path;
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}
