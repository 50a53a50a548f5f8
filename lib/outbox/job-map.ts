/**
 * The app's job map: job type → payload type. Augment it once and `enqueue` checks both the type
 * name and the payload shape at compile time:
 *
 * ```ts
 * declare module 'doctor-job' {
 *   interface DoctorJobs { sendClientLoginLink: SendClientLoginLink }
 * }
 * ```
 * While it is empty, any type name and payload are accepted (and checked at run time only).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface DoctorJobs {}

/** The job type names of a job map (any string while the map is empty). */
export type JobType<Jobs> = [keyof Jobs] extends [never] ? string : Extract<keyof Jobs, string>;

/** The payload type of one job type. */
export type JobPayload<Jobs, T> = T extends keyof Jobs ? Jobs[T] : unknown;

export interface EnqueueOptions {
  /** Run no earlier than this time. */
  runAt?: Date;
  /** Run no earlier than this many ms after the database's now() (PostgreSQL: the transaction's start). */
  delayMs?: number;
  /** Overrides the handler's and the module's maxAttempts for this job. */
  maxAttempts?: number;
  /** Higher runs first (an integer, default 0); jobs of one priority run in due order. */
  priority?: number;
  /**
   * Jobs that share an ordering key run one at a time, in enqueue order, across every app
   * instance; a failing job holds the later ones of its key until it succeeds or is dead-lettered.
   */
  orderingKey?: string;
  /**
   * While a job with this key is in the queue (waiting or running), enqueueing another writes
   * nothing and returns the id of the job already there.
   */
  dedupKey?: string;
}

/** One entry of `enqueueMany`. */
export type JobRequest<Jobs> = {
  [T in JobType<Jobs>]: { type: T; payload: JobPayload<Jobs, T> } & EnqueueOptions;
}[JobType<Jobs>];
