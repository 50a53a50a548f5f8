import type { JobError } from '../store/job-store.interface';

/** Whatever a handler (or the runner) threw, as the message and stack a job keeps. */
export function toJobError(thrown: unknown): JobError {
  if (thrown instanceof Error) return { message: thrown.message || thrown.name, stack: thrown.stack };
  return { message: typeof thrown === 'string' ? thrown : `Non-error thrown: ${safeString(thrown)}` };
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
