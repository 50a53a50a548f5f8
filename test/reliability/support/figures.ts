import { appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where the figures of a run are collected, one JSON object a line. */
export const FIGURES_FILE = process.env.RELIABILITY_FIGURES ?? join(tmpdir(), 'doctor-job-reliability.jsonl');

/** Prints a test's figures on one line and appends them to FIGURES_FILE. */
export function figure(test: string, values: Record<string, number | string | boolean>): void {
  const line = Object.entries(values)
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
  process.stdout.write(`\n[reliability] ${test}: ${line}\n`);
  appendFileSync(FIGURES_FILE, `${JSON.stringify({ test, ...values, at: new Date().toISOString() })}\n`);
}
