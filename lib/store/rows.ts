import type { ClaimedJob, DeadLetter, NewJob, PendingJob } from './job-store.interface';

/**
 * Dialect-neutral helpers for the stores: encoding a batch of new jobs as one JSON parameter,
 * and turning raw rows (whose value types differ by driver) into the public shapes.
 */

/** One JSON array for a whole batch, so an insert of any size is one statement with one parameter. */
export function encodeJobs(jobs: NewJob[]): string {
  return `[${jobs
    .map(
      (job) =>
        `{"type":${JSON.stringify(job.type)},"payload":${job.payload},"maxAttempts":${job.maxAttempts},"priority":${job.priority},` +
        `"runAt":${job.runAt ? JSON.stringify(job.runAt.toISOString()) : 'null'},"delayMs":${job.delayMs ?? 0}}`,
    )
    .join(',')}]`;
}

type Row = Record<string, unknown>;

export function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(value as string | number);
}

/** PostgreSQL's jsonb arrives parsed; SQLite's TEXT arrives as a string. */
export function toPayload(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

export function sortIds(rows: Row[]): string[] {
  return rows.map((row) => BigInt(row.id as string | number | bigint)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(String);
}

export function toClaimedJob(row: Row): ClaimedJob {
  return {
    id: String(row.id),
    type: row.type as string,
    payload: toPayload(row.payload),
    attempt: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    createdAt: toDate(row.created_at),
  };
}

export function toDeadLetter(row: Row): DeadLetter {
  return {
    id: String(row.id),
    jobId: String(row.job_id),
    type: row.type as string,
    payload: toPayload(row.payload),
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    errorMessage: row.error_message as string,
    errorStack: (row.error_stack as string | null) ?? null,
    createdAt: toDate(row.created_at),
    failedAt: toDate(row.failed_at),
  };
}

export function toPendingJob(row: Row): PendingJob {
  return {
    id: String(row.id),
    type: row.type as string,
    payload: toPayload(row.payload),
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    runAt: toDate(row.run_at),
    lastError: (row.last_error as string | null) ?? null,
    claimed: row.claimed === true || row.claimed === 1 || row.claimed === 1n,
    createdAt: toDate(row.created_at),
  };
}
