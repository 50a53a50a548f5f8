/**
 * The JobStore interface, every database operation of Doctor Job, and the shapes it takes and
 * returns (new jobs, claims, dead letters, queue stats). Implemented per dialect under
 * lib/store/<dialect>/; createJobStore() picks one.
 */
import type { Dialect } from '../doctor-job.options';
import type { TransactionClientLike } from './prisma-client.interface';

/** A job as the enqueue path hands it to the store. `payload` is already JSON text. */
export interface NewJob {
  type: string;
  payload: string;
  maxAttempts: number;
  /** Higher runs first; 0 by default. */
  priority: number;
  /** Jobs sharing it run one at a time, in enqueue order. */
  orderingKey?: string;
  /** While a job with this key is in the queue, inserting another writes nothing. */
  dedupKey?: string;
  /** Absolute due time chosen by the caller. */
  runAt?: Date;
  /** Due this many ms after the database's now(). Ignored when runAt is set. */
  delayMs?: number;
  /** The enqueue's trace context (see lib/tracing/trace-context.ts), stored only when given: an untraced enqueue sends nothing more. */
  traceContext?: string;
}

export interface InsertOptions {
  /**
   * The caller will call `announce()` after the transaction commits, so the insert need not
   * wake the runners itself (PostgreSQL: no pg_notify in the transaction).
   */
  announceAfterCommit?: boolean;
}

/** A job claimed by one worker under a lease. */
export interface ClaimedJob {
  id: string;
  type: string;
  payload: unknown;
  /** Attempts including this one. */
  attempt: number;
  maxAttempts: number;
  createdAt: Date;
  /** The trace context stored at enqueue (null: the enqueue was not traced). Stores that do not keep it leave it out. */
  traceContext?: string | null;
}

/** What one claim asks for. */
export interface ClaimParams {
  /** Most jobs to claim. */
  limit: number;
  /** Lease length from the database's now(), in ms. */
  leaseMs: number;
  /** The claim token that will hold the claimed jobs (a uuid). */
  token: string;
  /** Job types not to claim (their per-type limit is reached, or they are paused). */
  excludeTypes?: string[];
}

/** One claim of one job: the job id and the claim token that holds it. */
export interface Claim {
  id: string;
  token: string;
}

export interface JobError {
  message: string;
  stack?: string;
}

export interface DeadLetter {
  id: string;
  /** Id the job had in the queue. */
  jobId: string;
  type: string;
  payload: unknown;
  attempts: number;
  maxAttempts: number;
  errorMessage: string;
  errorStack: string | null;
  /** When the job was enqueued. */
  createdAt: Date;
  failedAt: Date;
  /** Why it was dead-lettered. */
  reason: DeadLetterReason;
  /** The id of the job whose dead letter this job replayed (null: it was enqueued, not replayed). */
  replayOf: string | null;
}

export interface DeadLetterQuery extends DeadLetterFilter {
  /** Page size. */
  limit: number;
  /** Cursor: return dead letters older than this id (the `nextCursor` of the previous page). */
  before?: string;
}

/** A job waiting in the queue (not claimed, or claimed by a worker whose lease may still run). */
export interface PendingJob {
  id: string;
  type: string;
  payload: unknown;
  attempts: number;
  maxAttempts: number;
  runAt: Date;
  lastError: string | null;
  /** Held by a worker under a live lease. */
  claimed: boolean;
  createdAt: Date;
}

/**
 * Every database operation of Doctor Job. One implementation per dialect, each in its folder under
 * lib/store/ (statements in <dialect>.sql.ts); nothing else writes SQL. Every write of a claimed
 * job (complete, retry, deadLetter, extend, release) is fenced by the claim token: it only
 * touches the row if that token still holds it.
 */
export interface JobStore {
  readonly dialect: Dialect;
  /**
   * Writes jobs through the caller's transaction client in one statement; returns their ids in
   * order. A job whose dedup key is taken by a job in the queue is not written: its id is that
   * job's (found by a second statement, only when that happens).
   */
  insert(tx: TransactionClientLike, jobs: NewJob[], options?: InsertOptions): Promise<string[]>;
  /**
   * Wakes every instance's runner for jobs inserted with `announceAfterCommit`, once their
   * transaction has committed. Only stores that wake runners (PostgreSQL's LISTEN/NOTIFY) have it.
   */
  announce?(): void;
  /**
   * Claims up to `limit` due jobs (database clock), stamping them with `token` and a lease;
   * never jobs of the `excludeTypes`. Returns them in id order (`compareIds`).
   */
  claim(params: ClaimParams): Promise<ClaimedJob[]>;
  /**
   * Deletes finished jobs, all in one statement. Returns the claims that no longer held their
   * job (as `${id}:${token}`; usually none): their lease ran out and the job was claimed again.
   */
  complete(claims: Claim[]): Promise<Set<string>>;
  /**
   * The same delete for claims whose leases the runner knows to be live (their claim or last
   * extension was sent less than the lease ago), so no other claim can hold their jobs. Returns
   * only how many jobs it deleted; fewer than `claims` means jobs were deleted by someone else.
   * Optional: without it the runner uses `complete`.
   */
  completeUnderLease?(claims: Claim[]): Promise<number>;
  /**
   * Deletes one finished job inside `tx`, the transaction a `transaction: true` handler ran in,
   * fenced by its claim token: false when the claim no longer holds (the caller then rolls the
   * transaction back, so none of the handler's writes commit).
   */
  completeInTransaction(tx: TransactionClientLike, claim: Claim): Promise<boolean>;
  /** Records a failure (the job's last error, and a row of its attempt history) and makes the job due again after `delayMs`. */
  retry(id: string, token: string, delayMs: number, error: JobError): Promise<boolean>;
  /**
   * Moves the job to the dead letters with `reason` (default `failed`), atomically, and records the
   * failed attempt in its history.
   */
  deadLetter(id: string, token: string, error: JobError, reason?: DeadLetterReason): Promise<boolean>;
  /** Pushes the lease of running jobs forward; returns the ids the token still holds. */
  extend(ids: string[], token: string, leaseMs: number): Promise<string[]>;
  /** Gives jobs back without consuming their attempt (shutdown). Returns how many were released. */
  release(ids: string[], token: string): Promise<number>;
  listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]>;
  getDeadLetter(id: string): Promise<DeadLetter | null>;
  /**
   * Moves dead letters back to the queue with a fresh attempt count, atomically; returns new job ids.
   * Each new job takes the dead letter's attempt history with it (and `replayOf`, the old job id).
   */
  replayDeadLetters(ids: string[]): Promise<string[]>;
  /** Deletes dead letters and their attempt history; returns how many dead letters. */
  deleteDeadLetters(ids: string[]): Promise<number>;
  /** The last cron tick enqueued for a recurring type, or null; with `init`, records it if there is none. */
  lastTick(type: string, init?: Date): Promise<Date | null>;
  /**
   * Enqueues the job of one cron tick if no instance has yet: moves the type's last tick forward
   * to `tick` and inserts the job, atomically. Returns the job id, or null when the tick was taken.
   */
  claimTick(type: string, tick: Date, job: NewJob): Promise<string | null>;
  /** Queue depth and age per job type, and dead letters per type (health checks and metrics). */
  stats(): Promise<QueueStats>;
  /** Jobs in the queue, oldest first (inspection and tests). */
  listJobs(query: { type?: string; limit: number }): Promise<PendingJob[]>;
  /**
   * Calls `wake` when jobs may have been enqueued (PostgreSQL: LISTEN on a dedicated connection,
   * re-established when it drops). Resolves to a function that stops listening. Dialects
   * without notifications do not implement it; the runner then polls only.
   */
  listen?(wake: () => void, events: ListenerEvents): Promise<() => Promise<void>>;

  // ---- the operator's console (DoctorJobAdminService) ----

  /** Jobs in the queue by state and keys, in id order, a page at a time (`after`: the last id of the previous page). */
  findJobs(query: JobQuery): Promise<QueuedJob[]>;
  /** One job in the queue, with its payload; null when it is not in the queue. */
  getJob(id: string): Promise<QueuedJobWithPayload | null>;
  /** The failed attempts recorded for a job id (a job in the queue, or a dead letter's `jobId`), oldest first. */
  listAttempts(jobId: string): Promise<JobAttempt[]>;
  /**
   * Cancels queued jobs, all or none, in one transaction: when every id is in the queue and none is
   * held by a worker under a live lease (or locked by a claim or settle under way), they move to the
   * dead letters with reason `cancelled` and `message` as their error; otherwise nothing changes
   * and the result says which ids were running or missing.
   */
  cancelJobs(ids: string[], message: string): Promise<JobActionResult>;
  /**
   * Makes scheduled jobs (delayed, or waiting to retry) due now, all or none, in one transaction,
   * under the same conditions as `cancelJobs`; jobs already due are left as they are (`unchanged`).
   */
  runJobsNow(ids: string[]): Promise<JobActionResult>;
  /** Dead letters matching the filter. */
  countDeadLetters(filter: DeadLetterFilter): Promise<number>;
  /** `replayDeadLetters` for every dead letter matching the filter, in one transaction. */
  replayDeadLettersMatching(filter: DeadLetterFilter): Promise<string[]>;
  /** `deleteDeadLetters` for every dead letter matching the filter, in one transaction; returns how many. */
  deleteDeadLettersMatching(filter: DeadLetterFilter): Promise<number>;
  /** Pauses a job type for every instance (no runner claims it; its jobs stay queued). False when it was paused already. */
  pauseType(type: string): Promise<boolean>;
  /** Resumes a paused job type. False when it was not paused. */
  resumeType(type: string): Promise<boolean>;
  /** The paused job types, by name (read by every runner once per poll interval). */
  listPausedTypes(): Promise<PausedType[]>;
  /**
   * Records a runner instance: its key (carried by its claim tokens, see claim-token.ts) and its
   * name, so a running job names its holder. Again at every housekeeping round (seen now).
   */
  registerInstance(key: string, name: string): Promise<void>;
  /** Forgets instances not seen for `maxAgeMs` (their process is gone); returns how many. */
  pruneInstances(maxAgeMs: number): Promise<number>;
  /**
   * Deletes up to `limit` rows of attempt history that belong to no job and no dead letter (jobs
   * that succeeded after failed attempts leave theirs: the success path writes nothing more).
   * Returns how many.
   */
  pruneAttempts(limit: number): Promise<number>;
  /** Sizes, dead rows, vacuum and the transactions holding it back: what `doctor-job doctor` judges. */
  diagnose(): Promise<StoreDiagnostics>;

  /** Closes connections the store opened itself (not the app's Prisma client), at app shutdown. */
  close?(): Promise<void>;
}

export interface TypeStats {
  type: string;
  /** Due and not held by a worker. */
  due: number;
  /** Held by a worker under a live lease. */
  running: number;
  /** Everything in the queue, scheduled for later included. */
  total: number;
  /** How long the oldest due job has been due, in ms (0 when none is). */
  oldestDueAgeMs: number;
}

export interface QueueStats {
  types: TypeStats[];
  deadLetters: { type: string; count: number }[];
}

export interface ListenerEvents {
  connected(): void;
  lost(error: unknown): void;
}

/**
 * Why a job was moved to the dead letters: `failed` (its last allowed attempt failed),
 * `non-retryable` (its handler threw NonRetryableJobError), `lease-expired` (the lease ran out during
 * its last allowed attempt: the worker died or the handler outlived the lease), `no-handler` (no
 * handler for its type in the app that claimed it), `invalid-payload` (its payload failed the
 * handler's DTO), `cancelled` (an operator cancelled it).
 */
export type DeadLetterReason = 'failed' | 'non-retryable' | 'lease-expired' | 'no-handler' | 'invalid-payload' | 'cancelled';

export const DEAD_LETTER_REASONS: readonly DeadLetterReason[] = ['failed', 'non-retryable', 'lease-expired', 'no-handler', 'invalid-payload', 'cancelled'];

/** Which dead letters: every given field must match. */
export interface DeadLetterFilter {
  type?: string;
  reason?: DeadLetterReason;
  /** Failed before this time (exclusive). */
  failedBefore?: Date;
  /** Failed at or after this time. */
  failedAfter?: Date;
}

/**
 * Where a job in the queue stands, on the database's clock: `running` (held by a worker under a live
 * lease), `due` (its time has come; claimed by the next claim that reaches it, unless an earlier job
 * of its ordering key is still queued), `scheduled` (delayed, or waiting to retry after a failure).
 */
export type JobState = 'due' | 'scheduled' | 'running';

export const JOB_STATES: readonly JobState[] = ['due', 'scheduled', 'running'];

export interface JobQuery {
  state?: JobState;
  type?: string;
  orderingKey?: string;
  dedupKey?: string;
  /** Page size. */
  limit: number;
  /** Cursor: jobs with a greater id than this (the last id of the previous page). */
  after?: string;
}

/** A job in the queue, as the operator's console shows it. */
export interface QueuedJob {
  id: string;
  type: string;
  state: JobState;
  /** Attempts so far (including one running now). */
  attempts: number;
  maxAttempts: number;
  priority: number;
  orderingKey: string | null;
  dedupKey: string | null;
  /** When it is (or was) due. */
  runAt: Date;
  lastError: string | null;
  /** The end of its lease while it runs (or of the last one, run out, when its worker died); null when never claimed or settled since. */
  lockedUntil: Date | null;
  /**
   * The runner instance holding (or that last held) the lease, `hostname:pid:key`, read from its
   * claim token; null when it holds none, or its runner is unknown (an older version, or gone for a day).
   */
  lockedBy: string | null;
  /** When the claim was sent, by the claiming runner's clock (carried by the claim token); null without a claim. */
  claimedAt: Date | null;
  /** The id of the job whose dead letter this job replays, if it is a replay. */
  replayOf: string | null;
  createdAt: Date;
}

export interface QueuedJobWithPayload extends QueuedJob {
  payload: unknown;
}

/** One failed attempt of a job, kept with the job, then with its dead letter, and across replays. */
export interface JobAttempt {
  /** The id the job had in the queue when this attempt failed (a replayed job's earlier runs had other ids). */
  jobId: string;
  /** Its attempt number within that run (a replay starts again at 1). */
  attempt: number;
  errorMessage: string;
  errorStack: string | null;
  failedAt: Date;
}

/** What an all-or-nothing action on queued jobs did, or why it did nothing. */
export interface JobActionResult {
  /** The ids it changed (empty when `running` or `missing` is not). */
  done: string[];
  /** Ids it left alone because they needed nothing (run-now: already due). */
  unchanged: string[];
  /** Ids held by a worker under a live lease (or locked by a claim or settle under way): nothing changed. */
  running: string[];
  /** Ids not in the queue: nothing changed. */
  missing: string[];
}

export interface PausedType {
  type: string;
  pausedAt: Date;
}

/** One of Doctor Job's tables, as the database describes it (null: the database does not say). */
export interface TableDiagnostics {
  table: string;
  /** Live rows (PostgreSQL, MariaDB: the statistics' estimate; SQLite: counted). */
  rows: number | null;
  /** PostgreSQL: dead row versions not yet vacuumed. */
  deadRows: number | null;
  /** The table's own size (heap), in bytes. */
  tableBytes: number | null;
  /** All its indexes, in bytes. */
  indexBytes: number | null;
  /** MariaDB: allocated but unused space (DATA_FREE). */
  freeBytes: number | null;
  lastVacuum: Date | null;
  lastAutovacuum: Date | null;
  indexes: { name: string; bytes: number | null }[];
}

/** Something that keeps old row versions from being cleaned up: a transaction, a replication slot, a prepared transaction. */
export interface HorizonHolder {
  kind: 'transaction' | 'replication slot' | 'prepared transaction';
  /** PostgreSQL: the backend pid, slot name or gid; MariaDB: the connection (thread) id. */
  id: string;
  /** How long it has been open (a slot: unknown, null). */
  ageMs: number | null;
  /** PostgreSQL: transactions since its xmin. */
  xminAge: number | null;
  startedAt: Date | null;
  state: string | null;
  user: string | null;
  application: string | null;
  database: string | null;
  /** Its current or last statement, cut short. */
  query: string | null;
}

export interface StoreDiagnostics {
  dialect: Dialect;
  tables: TableDiagnostics[];
  /** The oldest holder of the cleanup horizon; null when none; undefined when the dialect has none (SQLite) or it could not be read. */
  oldestHorizonHolder?: HorizonHolder | null;
  /** MariaDB: InnoDB's history list length (undo log records purge has not removed yet). */
  purgeBacklog?: number | null;
  /** SQLite: the database file's pages. */
  file?: { pageSize: number; pages: number; freePages: number; autoVacuum: string; journalMode: string };
  /** Figures that could not be read, and why (a missing privilege, a view the server lacks). */
  unavailable: string[];
}
