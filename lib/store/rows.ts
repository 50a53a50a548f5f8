/**
 * Dialect-neutral helpers for the stores: encoding a batch of new jobs as one JSON parameter,
 * ordering ids exactly (id-order.ts, re-exported), and turning raw rows (whose value types differ by driver) into the public shapes.
 */
import type {
  ClaimedJob,
  DeadLetter,
  DeadLetterReason,
  HorizonHolder,
  JobActionResult,
  JobAttempt,
  JobState,
  NewJob,
  PausedType,
  PendingJob,
  QueuedJob,
  QueuedJobWithPayload,
  QueueStats,
  TypeStats,
} from './job-store.interface';
import { tokenTime } from './claim-token';
import { compareIds } from './id-order';

export { compareIds, inIdOrder } from './id-order';

/** One JSON array for a whole batch, so an insert of any size is one statement with one parameter. */
export function encodeJobs(jobs: NewJob[]): string {
  return `[${jobs
    .map(
      (job) =>
        `{"type":${JSON.stringify(job.type)},"payload":${job.payload},"maxAttempts":${job.maxAttempts},"priority":${job.priority},` +
        `"runAt":${job.runAt ? JSON.stringify(job.runAt.toISOString()) : 'null'},"delayMs":${job.delayMs ?? 0},` +
        `"orderingKey":${job.orderingKey === undefined ? 'null' : JSON.stringify(job.orderingKey)},` +
        `"dedupKey":${job.dedupKey === undefined ? 'null' : JSON.stringify(job.dedupKey)}` +
        // Only for traced enqueues: the statements read a missing key as NULL.
        `${job.traceContext === undefined ? '' : `,"traceContext":${JSON.stringify(job.traceContext)}`}}`,
    )
    .join(',')}]`;
}

/** A row as a driver returns it. */
export type Row = Record<string, unknown>;

export function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(value as string | number);
}

/** PostgreSQL's jsonb arrives parsed; SQLite's TEXT arrives as a string. */
export function toPayload(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

/**
 * The ids of an insert, in the order of `jobs`: rows without a dedup key were inserted in that
 * order (ids ascending); a job with a dedup key gets the row inserted with its key, or the id of
 * the job already holding it (`existing`, looked up after the insert).
 */
export function idsInOrder(jobs: NewJob[], inserted: Row[], existing: Map<string, string> = new Map()): string[] {
  const byKey = new Map<string, string>();
  const plain: string[] = [];
  for (const row of inserted) {
    const key = row.dedup_key as string | null;
    if (key === null || key === undefined) plain.push(String(row.id));
    else byKey.set(key, String(row.id));
  }
  plain.sort(compareIds);
  let next = 0;
  return jobs.map((job) => (job.dedupKey === undefined ? plain[next++] : (byKey.get(job.dedupKey) ?? existing.get(job.dedupKey)!)));
}

/** Dedup keys of `jobs` that the insert did not write (taken by a job already in the queue). */
export function missingDedupKeys(jobs: NewJob[], inserted: Row[]): string[] {
  const written = new Set(inserted.map((row) => row.dedup_key));
  return [...new Set(jobs.flatMap((job) => (job.dedupKey !== undefined && !written.has(job.dedupKey) ? [job.dedupKey] : [])))];
}

export function sortIds(rows: Row[]): string[] {
  return rows.map((row) => String(row.id)).sort(compareIds);
}

export function toClaimedJob(row: Row): ClaimedJob {
  return {
    id: String(row.id),
    type: row.type as string,
    payload: toPayload(row.payload),
    attempt: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    createdAt: toDate(row.created_at),
    traceContext: (row.trace_context as string | null | undefined) ?? null,
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
    reason: ((row.reason as string | null | undefined) ?? 'failed') as DeadLetterReason,
    replayOf: row.replay_of === null || row.replay_of === undefined ? null : String(row.replay_of),
  };
}

export function toTypeStats(row: Row): TypeStats {
  return {
    type: row.type as string,
    due: Number(row.due),
    running: Number(row.running),
    total: Number(row.total),
    oldestDueAgeMs: Math.max(0, Math.round(Number(row.oldest_due_ms))),
  };
}

/** Stats from the per-type rows and the dead letters per type. */
export function toQueueStats(types: Row[], deadLetters: Row[]): QueueStats {
  return { types: types.map(toTypeStats), deadLetters: deadLetters.map((row) => ({ type: row.type as string, count: Number(row.count) })) };
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

/** The claims (as `${id}:${token}`) not among those a delete found still holding their job. */
export function lostClaims(claims: { id: string; token: string }[], held: Row[]): Set<string> {
  const found = new Set(held.map((row) => `${row.id}:${row.claim_token}`));
  const lost = new Set<string>();
  for (const { id, token } of claims) if (!found.has(`${id}:${token}`)) lost.add(`${id}:${token}`);
  return lost;
}

/** The distinct ordering keys of a batch, sorted (locks on them are taken in this order, so two batches cannot deadlock). */
export function orderingKeys(jobs: NewJob[]): string[] {
  const keys = new Set<string>();
  for (const job of jobs) if (job.orderingKey !== undefined) keys.add(job.orderingKey);
  return [...keys].sort();
}

const orNull = <T>(value: unknown, map: (value: unknown) => T): T | null => (value === null || value === undefined ? null : map(value));
const toNumber = (value: unknown): number => Number(value);

/** A job of the operator's console; `state` comes from the statement (the database's clock decides). */
export function toQueuedJob(row: Row): QueuedJob {
  return {
    id: String(row.id),
    type: row.type as string,
    state: row.state as JobState,
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    priority: Number(row.priority),
    orderingKey: (row.ordering_key as string | null) ?? null,
    dedupKey: (row.dedup_key as string | null) ?? null,
    runAt: toDate(row.run_at),
    lastError: (row.last_error as string | null) ?? null,
    lockedUntil: orNull(row.locked_until, toDate),
    lockedBy: (row.locked_by as string | null) ?? null,
    claimedAt: tokenTime(row.claim_token as string | null),
    replayOf: orNull(row.replay_of, String),
    createdAt: toDate(row.created_at),
  };
}

export function toQueuedJobWithPayload(row: Row): QueuedJobWithPayload {
  return { ...toQueuedJob(row), payload: toPayload(row.payload) };
}

export function toAttempt(row: Row): JobAttempt {
  return {
    jobId: String(row.run_job_id),
    attempt: Number(row.attempt),
    errorMessage: row.error_message as string,
    errorStack: (row.error_stack as string | null) ?? null,
    failedAt: toDate(row.failed_at),
  };
}

export function toPausedType(row: Row): PausedType {
  return { type: row.type as string, pausedAt: toDate(row.paused_at) };
}

/**
 * The outcome of an all-or-nothing action on queued jobs, from the rows the action found (locked)
 * and the ids that exist at all: an id that exists but was not found locked is held by a claim or
 * a settle under way, so it counts as running.
 */
export function classifyJobs(ids: string[], locked: Row[], existing: Row[]): Omit<JobActionResult, 'done' | 'unchanged'> & { found: Row[] } {
  const byId = new Map(locked.map((row) => [String(row.id), row]));
  const exists = new Set(existing.map((row) => String(row.id)));
  const running: string[] = [];
  const missing: string[] = [];
  for (const id of ids) {
    const row = byId.get(id);
    if (!row) (exists.has(id) ? running : missing).push(id);
    else if (isTrue(row.running)) running.push(id);
  }
  return { running, missing, found: locked };
}

/** A boolean as drivers return it: true, 1, 1n, '1', 't'. */
export function isTrue(value: unknown): boolean {
  return value === true || value === 1 || value === 1n || value === '1' || value === 't';
}

/** A number or null (drivers return counts and sizes as numbers, bigints or strings). */
export function toCount(value: unknown): number | null {
  return orNull(value, toNumber);
}

export function toHorizonHolder(row: Row, kind: HorizonHolder['kind']): HorizonHolder {
  return {
    kind,
    id: String(row.id),
    ageMs: toCount(row.age_ms),
    xminAge: toCount(row.xmin_age),
    startedAt: orNull(row.started_at, toDate),
    state: (row.state as string | null | undefined) ?? null,
    user: (row.user_name as string | null | undefined) ?? null,
    application: (row.application as string | null | undefined) ?? null,
    database: (row.database_name as string | null | undefined) ?? null,
    query: (row.query as string | null | undefined) ?? null,
  };
}
