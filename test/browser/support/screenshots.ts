import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Where the browser tests save the screenshots they take on every run: SCREENSHOT_DIR, else a
 * folder in the system's temporary directory, outside the working tree (CI leaves the tree alone;
 * the README's own screenshots in docs/ are written only with SAVE_SCREENSHOTS=1).
 */
export const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR ?? join(tmpdir(), 'doctor-job-screenshots');

/** The path to save `name` at, its folder created. */
export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return join(SCREENSHOT_DIR, name);
}
