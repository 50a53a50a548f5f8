/**
 * The checks behind resolveOptions() (and the handlers' backoff): each pushes a problem that names
 * the option, what it must be and what it got, so one InvalidOptionsError can list them all.
 */
import type { BackoffOptions, ReindexOptions } from './doctor-job.options';
import { definedOnly, describe } from './util/describe';

/** `reindex`: false, or the thresholds with their defaults (true or omitted: every default). */
export function resolveReindex(problems: string[], input: unknown, defaults: Required<ReindexOptions>): false | Required<ReindexOptions> {
  if (input === undefined || input === true) return defaults;
  if (input === false) return false;
  if (!input || typeof input !== 'object' || Array.isArray(input)) {
    problems.push(`"reindex" must be true, false or { minBytes?, factor?, intervalMs? }, got ${describe(input)}`);
    return defaults;
  }
  for (const key of Object.keys(input)) {
    if (!(key in defaults)) problems.push(`"reindex.${key}" is not an option (known: ${Object.keys(defaults).join(', ')})`);
  }
  const resolved = { ...defaults, ...definedOnly(input as ReindexOptions) };
  positiveInteger(problems, 'reindex.minBytes', resolved.minBytes);
  positiveInteger(problems, 'reindex.intervalMs', resolved.intervalMs, MAX_TIMER_MS);
  if (!(typeof resolved.factor === 'number' && Number.isFinite(resolved.factor) && resolved.factor >= 1)) {
    problems.push(`"reindex.factor" must be a number of 1 or more, got ${describe(resolved.factor)}`);
  }
  return resolved;
}

/** Checks a backoff object (module-wide or a handler's); returns the problems found. */
export function checkBackoff(backoff: BackoffOptions, prefix: string): string[] {
  const problems: string[] = [];
  if (backoff.baseMs !== undefined) nonNegativeInteger(problems, `${prefix}baseMs`, backoff.baseMs);
  if (backoff.maxMs !== undefined) nonNegativeInteger(problems, `${prefix}maxMs`, backoff.maxMs);
  if (backoff.jitter !== undefined && !(typeof backoff.jitter === 'number' && backoff.jitter >= 0 && backoff.jitter <= 1)) {
    problems.push(`"${prefix}jitter" must be a number from 0 to 1, got ${describe(backoff.jitter)}`);
  }
  if (typeof backoff.baseMs === 'number' && typeof backoff.maxMs === 'number' && backoff.maxMs < backoff.baseMs) {
    problems.push(`"${prefix}maxMs" (${backoff.maxMs}) must not be below "${prefix}baseMs" (${backoff.baseMs})`);
  }
  return problems;
}

/** Node's timers fire at once for delays above this (about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export function positiveInteger(problems: string[], name: string, value: unknown, max = Number.MAX_SAFE_INTEGER): void {
  if (!(Number.isSafeInteger(value) && (value as number) > 0)) {
    problems.push(`"${name}" must be a positive integer, got ${describe(value)}`);
  } else if ((value as number) > max) {
    problems.push(`"${name}" must be at most ${max}, got ${describe(value)}`);
  }
}

export function nonNegativeInteger(problems: string[], name: string, value: unknown, max = Number.MAX_SAFE_INTEGER): void {
  if (!(Number.isSafeInteger(value) && (value as number) >= 0)) {
    problems.push(`"${name}" must be an integer of 0 or more, got ${describe(value)}`);
  } else if ((value as number) > max) {
    problems.push(`"${name}" must be at most ${max}, got ${describe(value)}`);
  }
}
