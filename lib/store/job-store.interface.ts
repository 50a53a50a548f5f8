/**
 * The JobStore interface, every database operation of Doctor Job, and the shapes it takes and
 * returns (new jobs, claims, dead letters, queue stats). Implemented per dialect under
 * lib/store/<dialect>/; createJobStore() picks one.
 */
import type { Dialect } from '../doctor-job.options';
import type { DeadLetterFilter, DeadLetterReason, JobAdminStore } from './job-store.admin';
import type { TransactionClientLike } from './prisma-client.interface';

export * from './job-store.admin';

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
export interface JobStore extends JobAdminStore {
  readonly dialect: Dialect;
  /**
   * Writes jobs through the caller's transaction client in one statement; returns their ids in
   * order. A job whose dedup key is taken by a job in the queue is not written: its id is that
   * job's (found by a second statement, only when that happens).
   */
  insert(tx: TransactionClientLike, jobs: NewJob[], options?: InsertOptions): Promise<string[]>;
  /**
   * Writes one job outside any transaction of the app's (`outbox.send`): committed, and the
   * runners woken, once it resolves. A taken dedup key gives the id of the job holding it; an
   * ordering key is held against other producers of the key until the job is committed.
   * PostgreSQL: one autocommit statement (insert + pg_notify, while another instance listens) on the runner's connections.
   */
  send(job: NewJob): Promise<string>;
  /**
   * Wakes the runners for jobs inserted with `announceAfterCommit`, once their transaction has
   * committed: this process's in-process (every SQL store), every other instance's by NOTIFY
   * (PostgreSQL, while there is another). Stores without it (the tests' memory store) leave the runners to poll.
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
   * Calls `wake` when jobs may have been enqueued: directly, in the async context of this call,
   * from this store's own announce() and send() (every SQL store); and on PostgreSQL also on a
   * NOTIFY from another instance (LISTEN on a dedicated connection, re-established when it drops;
   * this store's own NOTIFYs it lets pass). Resolves to a function that stops listening. Without
   * it (the tests' memory store) the runner polls only.
   */
  listen?(wake: () => void, events: ListenerEvents): Promise<() => Promise<void>>;

  /**
   * Runs a read-only statement of the runner's own checks (the start-up schema check) on the
   * runner's connections, with positional parameters as the dialect writes them. PostgreSQL has
   * it (its runner pool): a worker that makes no query through Prisma never starts Prisma's query
   * engine, which costs CPU for every job afterwards. Without it the check uses the Prisma client.
   */
  inspect?(sql: string, params: unknown[]): Promise<Record<string, unknown>[]>;

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
