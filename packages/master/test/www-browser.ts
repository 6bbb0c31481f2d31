// What the browser tests of the web UI share: Debian's chromium, where screenshots go (CI
// artifacts), a page that fails the test on any script error, and logging in from the top bar.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';

export const CHROMIUM = process.env.LATHE_CHROMIUM ?? '/usr/bin/chromium';
export const SHOTS = join(import.meta.dirname, '..', '..', '..', '..', 'test-results', 'www');

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

/** A desktop-sized page; an uncaught error in the app fails the test. */
export async function newPage(browser: Browser): Promise<Page> {
  const p = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  p.on('pageerror', (err) => assert.fail(`page error: ${err.message}`));
  return p;
}

/** Logs in from the top bar as `user`, whose password is `<user>-pw`. */
export async function logIn(p: Page, user: string): Promise<void> {
  await p.getByRole('button', { name: 'Log in' }).click();
  await p.getByLabel('user', { exact: true }).fill(user);
  await p.getByLabel('password').fill(`${user}-pw`);
  await p.getByRole('button', { name: 'Log in' }).click();
  await p.getByTestId('user').filter({ hasText: user }).waitFor();
}
