/**
 * The shapes DoctorJobAdminService takes and returns (re-exported by the package's main entry point).
 */
import type { DeadLetter, DeadLetterReason, JobAttempt, JobState, PausedType, QueuedJob, QueuedJobWithPayload } from '../store/job-store.interface';

/** A page of a list: pass `nextCursor` back as `cursor` for the next one (null on the last page). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface JobListOptions {
  /** `due`, `scheduled` (delayed, or waiting to retry) or `running`; every job in the queue when left out. */
  state?: JobState;
  type?: string;
  orderingKey?: string;
  dedupKey?: string;
  /** Page size, 1..500 (default 50). */
  limit?: number;
  /** The `nextCursor` of the previous page (jobs are listed by id, oldest first). */
  cursor?: string;
}

/** One job in full: everything QueuedJob has, its payload, and every failed attempt so far (across replays). */
export interface JobDetail extends QueuedJobWithPayload {
  history: JobAttempt[];
}

/** Which dead letters: every given field must match. Times as Dates or ISO-8601 text. */
export interface DeadLetterMatch {
  type?: string;
  reason?: DeadLetterReason;
  /** Failed before this time (exclusive). */
  failedBefore?: Date | string;
  /** Failed at or after this time. */
  failedAfter?: Date | string;
}

/** A bulk action's selection: at least one criterion, or `all: true` for every dead letter. */
export interface DeadLetterBulkMatch extends DeadLetterMatch {
  all?: boolean;
}

export interface DeadLetterListQuery extends DeadLetterMatch {
  /** Page size, 1..500 (default 50). */
  limit?: number;
  /** The `nextCursor` of the previous page (dead letters are listed newest first). */
  cursor?: string;
}

/** One dead letter in full, with every failed attempt of its job (across replays). */
export interface DeadLetterDetail extends DeadLetter {
  history: JobAttempt[];
}

/** Per job type: the queue by state, whether the type is paused, its dead letters. */
export interface TypeOverview {
  type: string;
  due: number;
  scheduled: number;
  running: number;
  /** Everything in the queue. */
  total: number;
  /** How long the oldest due job has been due, in ms (0 when none is). */
  oldestDueAgeMs: number;
  deadLetters: number;
  paused: boolean;
  pausedAt: Date | null;
}

export interface AdminStats {
  /** Every type with jobs in the queue, dead letters, or a pause; by name. */
  types: TypeOverview[];
  totals: { due: number; scheduled: number; running: number; total: number; deadLetters: number };
  paused: PausedType[];
}

export interface CancelResult {
  /** How many jobs were cancelled. */
  count: number;
  /** Their ids (each now the `jobId` of a dead letter with reason `cancelled`). */
  jobIds: string[];
}

export interface RunNowResult {
  /** How many scheduled jobs were made due now. */
  count: number;
  jobIds: string[];
  /** Ids that were already due (left as they were). */
  alreadyDue: string[];
}

export interface ReplayResult {
  /** How many dead letters were replayed. */
  count: number;
  /** The new jobs' ids, in the order of the dead letters' ids. */
  jobIds: string[];
}

export interface DeleteResult {
  /** How many dead letters were deleted (with their attempt history). */
  count: number;
}

export interface PauseResult {
  type: string;
  /** Whether the type is paused now. */
  paused: boolean;
  /** False when it already was (pause) or was not (resume). */
  changed: boolean;
}
