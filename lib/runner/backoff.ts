import type { BackoffOptions } from '../doctor-job.options';

/**
 * Delay before the next attempt after `attempt` (1-based) failed: exponential, capped, then
 * shortened by a random share of up to `jitter` so that jobs which failed together do not all
 * come back at the same moment.
 */
export function backoffDelay(attempt: number, backoff: Required<BackoffOptions>, random: () => number = Math.random): number {
  const exponential = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (1 - backoff.jitter * random()));
}
