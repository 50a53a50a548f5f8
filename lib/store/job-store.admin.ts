/**
 * The operator's side of the JobStore (what DoctorJobAdminService and the `doctor-job` console
 * commands use): jobs by state, cancel and run-now, dead letters by filter, paused types, runner
 * instances, attempt history and diagnostics, with the shapes they take and return.
 */
import type { Dialect } from '../doctor-job.options';

/** The JobStore methods of the operator's console; every store implements them (see JobStore). */
export interface JobAdminStore {

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
  /**
   * Rebuilds the job table's indexes that are far larger than its rows need (after a long
   * transaction held the vacuum horizon back: PostgreSQL gives index space back only by a
   * rebuild), one instance at a time, never while a transaction still holds the horizon. Called
   * by the runner's housekeeping. Only PostgreSQL's store has it.
   */
  rebuildBloatedIndexes?(): Promise<IndexUpkeep>;
}

/** How `IndexUpkeep.skipped` begins when the rebuilds turned themselves off (the runner warns of it once). */
export const INDEX_REBUILDS_OFF = 'index rebuilds are off:';

/** What one look for bloated indexes did. */
export interface IndexUpkeep {
  /** The indexes rebuilt (or whose rebuild failed), in the order they were rebuilt. */
  rebuilt: IndexRebuild[];
  /** Why nothing was looked at: another instance holds the rebuild lock, a transaction holds the horizon, or the rebuilds are off. */
  skipped?: string;
}

/** One index rebuilt by `REINDEX INDEX CONCURRENTLY`, with its size before and after. */
export interface IndexRebuild {
  index: string;
  bytesBefore: number;
  /** Its size after the rebuild; the size before when the rebuild failed. */
  bytesAfter: number;
  ms: number;
  /** Why the rebuild failed (it left the index as it was). */
  error?: string;
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
  /** PostgreSQL: the table is partitioned (its sizes are then its partitions', not counted here). */
  partitioned?: boolean;
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
