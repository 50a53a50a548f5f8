import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's chromium (`apt-get install -y chromium`; .ci/run installs it); CHROMIUM_PATH overrides. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromiumPresent = () => existsSync(CHROMIUM_PATH);

/**
 * Without chromium the browser tests are skipped on a developer's machine, with a warning; under
 * CI=true they run and fail with a message saying what to install.
 */
export const describeBrowser: jest.Describe =
  chromiumPresent() || process.env.CI === 'true'
    ? describe
    : (((name: string, fn: () => void) => {
        // eslint-disable-next-line no-console
        console.warn(`Skipping "${name}": no chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
        describe.skip(name, fn);
      }) as unknown as jest.Describe);

export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Headless chromium with a fresh profile of its own, removed on close. */
export async function launchChromium(): Promise<Chromium> {
  if (!chromiumPresent()) {
    throw new Error(
      `No chromium at ${CHROMIUM_PATH}: the browser tests need it (CI=true, so they are not skipped). ` +
        'Install it with `apt-get install -y chromium` (.ci/run does when it is missing) or set CHROMIUM_PATH.',
    );
  }
  const profile = mkdtempSync(join(tmpdir(), 'doctor-job-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    viewport: { width: 1200, height: 800 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
