/**
 * Real Chromium for the end-to-end tests: Debian's `chromium` package, driven by
 * playwright-core (no browser download). When it is missing the suite is skipped with the
 * reason printed, unless FERRY_REQUIRE_CHROMIUM=1 (CI), where a missing browser is a failure.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

// FERRY_CHROMIUM, when set, is the only place looked at.
const CANDIDATES = process.env.FERRY_CHROMIUM
  ? [process.env.FERRY_CHROMIUM]
  : ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

// Quiet, loopback-only Chromium: no QUIC, no background calls home, no first-run pages.
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The Chromium executable, or null. */
export function findChromium(): string | null {
  return CANDIDATES.find((path) => existsSync(path)) ?? null;
}

/** Whether a missing Chromium must fail the run instead of skipping it. */
export const chromiumRequired = process.env.FERRY_REQUIRE_CHROMIUM === '1';

/**
 * The path to run, or null after printing why the suite is skipped.
 * Throws when Chromium is required (CI) but absent.
 */
export function chromiumOrSkip(): string | null {
  const path = findChromium();
  if (path) return path;
  const reason = `Chromium not found (looked at ${CANDIDATES.join(', ')})`;
  if (chromiumRequired)
    throw new Error(`${reason}, and FERRY_REQUIRE_CHROMIUM=1: install it (apt-get install chromium)`);
  console.warn(`[e2e] skipped: ${reason}. Install Debian's chromium package or set FERRY_CHROMIUM to run it.`);
  return null;
}

/** Launches headless Chromium. */
export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, args: ARGS, timeout: 30_000 });
}
