import type { Dialog, Page } from 'playwright-core';

/**
 * What a console page must never do, collected for an afterEach to assert empty: open a dialog
 * (an injected alert(1) ran), have a style or script blocked by its Content-Security-Policy (a
 * broken page; chromium reports each on the console), or throw.
 */
export interface PageProblems {
  dialogs: string[];
  blocked: string[];
  errors: string[];
}

export function watchPage(page: Page): PageProblems {
  const problems: PageProblems = { dialogs: [], blocked: [], errors: [] };
  page.on('dialog', (dialog: Dialog) => {
    problems.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) problems.blocked.push(`${page.url()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.errors.push(`${page.url()}: ${error.message}`));
  return problems;
}

/** Opens `url` and expects a 200. */
export async function openPage(page: Page, url: string): Promise<void> {
  const response = await page.goto(url);
  expect(response?.status()).toBe(200);
}

/** Waits until the flash region (where an action's outcome shows) says `pattern`. */
export async function flashSays(page: Page, pattern: RegExp): Promise<void> {
  try {
    await page.locator('[data-testid="flash"]:not([hidden])').filter({ hasText: pattern }).waitFor({ timeout: 15_000 });
  } catch {
    throw new Error(`The flash never said ${pattern}; it says ${JSON.stringify(await page.getByTestId('flash').textContent())}`);
  }
}

/** POSTs JSON to the sample as its clients do. */
export const postJson = (baseUrl: string, path: string, body: unknown) =>
  fetch(baseUrl + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
