import type { JobContext } from '../handlers/job-context.interface';
import type { AmbientOptions } from './ambient-transaction';

/**
 * The app's job map: job type → payload type. Augment it once and `enqueue`, `enqueueMany` and
 * `@JobHandler` check the type names and payload shapes at compile time:
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

/**
 * The job type names of a job map (any string while the map is empty). Written as a mapped type so
 * that compile errors list the names (`"a" | "b"`) rather than say `keyof DoctorJobs`.
 */
export type JobType<Jobs> = [keyof Jobs] extends [never] ? string : { [T in keyof Jobs]-?: T }[keyof Jobs] & string;

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

/**
 * The job list of `enqueueMany`, one entry per element of `Types` (inferred from the `type` of each
 * entry, so that an entry's payload is checked against its own type's payload, and the error names
 * the field at fault).
 */
export type JobRequests<Jobs, Types extends readonly unknown[]> = { [I in keyof Types]: { type: Types[I]; payload: JobPayload<Jobs, Types[I]> } & EnqueueOptions };

/**
 * What the first argument of `enqueue` / `enqueueMany` must be when it is not a job type or a job
 * list: a transaction client. The root client (it has `$connect`; transaction clients do not) is
 * refused at run time, and here at compile time with this text as the expected type.
 */
export type TransactionArgument<Client> = Client extends { $connect(...args: never[]): unknown }
  ? 'a transaction client (the tx of outbox.transaction or prisma.$transaction), not the root Prisma client'
  : Client;

/** `enqueue`'s first argument: a job type of the map (ambient transaction), or a transaction client. */
export type EnqueueFirst<Jobs, First> = First extends string ? (First extends JobType<Jobs> ? First : JobType<Jobs>) : TransactionArgument<First>;

/**
 * `enqueue`'s arguments after the first: `payload, options?` after a job type, `type, payload,
 * options?` after a client. (`never` for an unknown type's payload rather than `unknown`: while
 * `First` is inferred, this is the contextual type of the second argument, and `unknown` there
 * would widen a type name written as a literal to `string`.)
 */
export type EnqueueRest<Jobs, First, T extends JobType<Jobs>> = First extends string
  ? [payload: First extends JobType<Jobs> ? JobPayload<Jobs, First> : never, options?: EnqueueOptions & AmbientOptions]
  : [type: T, payload: JobPayload<Jobs, T>, options?: EnqueueOptions];

/**
 * The payload a handler of `T` is given, as its parameter must accept it: the map's payload type;
 * `any` while the map is empty or when `T` is a plain `string` (a type name known only at run time,
 * as in the relay factories), so that such handlers are not checked.
 */
export type HandlerPayload<Jobs, T> = string extends T ? any : T extends keyof Jobs ? Jobs[T] : any;

/**
 * The `@JobHandler` type argument: a type name of the map (or any string while the map is empty,
 * or a plain `string`). Otherwise the expected type, in the error, lists the map's names.
 */
export type HandlerJobType<Jobs, T extends string> = string extends T ? T : T extends JobType<Jobs> ? T : JobType<Jobs>;

/** A payload DTO class whose instances are payloads of `P`. */
export type PayloadClass<P> = new (...args: any[]) => P;

/** A method that can handle jobs whose payload is `P`: it takes `(payload: P, job: JobContext)`, or fewer parameters. */
export type JobHandlerMethod<P> = (payload: P, job: JobContext) => unknown;
