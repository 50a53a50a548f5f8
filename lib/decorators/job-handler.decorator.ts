import { SetMetadata } from '@nestjs/common';
import { JOB_HANDLER_METADATA } from '../doctor-job.constants';
import type { BackoffOptions } from '../doctor-job.options';
import type { DoctorJobs, HandlerJobType, HandlerPayload, JobHandlerMethod, PayloadClass } from '../outbox/job-map';

export interface JobHandlerOptions<Dto = new (...args: any[]) => object> {
  /**
   * A class-validator DTO. Payloads are checked against it when enqueued and again before the
   * handler runs; the handler receives an instance of it (class-transformer's plainToInstance).
   * With a job map, its instances must be of the map's payload type.
   */
  payload?: Dto;
  /** Attempts before the job is dead-lettered; overrides the module's `maxAttempts`. */
  maxAttempts?: number;
  /** Backoff between attempts of this job type; merged over the module's `backoff`. */
  backoff?: BackoffOptions;
  /**
   * Fail the attempt after this many ms (it is retried like any failure). The job context's
   * `signal` is aborted then; a handler that ignores it goes on in the background, but its outcome
   * is no longer written.
   */
  timeoutMs?: number;
  /** Most jobs of this type running at once in one app instance (within the module's `concurrency`). */
  concurrency?: number;
  /**
   * Makes it a recurring job: a cron expression (6 fields with seconds, or 5; as @nestjs/schedule's
   * `@Cron`). Exactly one job is enqueued per tick across all instances; the handler gets
   * `{ scheduledAt }` (the tick, ISO-8601) as its payload.
   */
  cron?: string;
  /**
   * Run the handler in a database transaction with the job's completion: the handler gets the
   * Prisma transaction client as `job.tx`, and its writes (and jobs it enqueues through `job.tx`)
   * commit together with the deletion of the job, fenced by the claim token, or not at all. A
   * worker whose claim was lost commits nothing; a handler that throws rolls its writes back
   * before the retry is recorded. The transaction stays open while the handler runs (at most the
   * lease). Effects outside the database (an email) are still at-least-once.
   */
  transaction?: boolean;
}

export interface JobHandlerMetadata extends JobHandlerOptions {
  type: string;
}

/**
 * The decorator `@JobHandler(type)` returns: it accepts a method that takes `(payload: P, job)`
 * (or fewer parameters), where `P` is what the handler is given.
 */
export type JobHandlerDecorator<P> = <M extends JobHandlerMethod<P>>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => void;

/**
 * Marks a provider method as the handler of one job type. It is called as
 * `method(payload, context)` with the payload (a DTO instance when `payload` is set) and a
 * {@link JobContext}. Throwing fails the attempt: the job is retried after a backoff, then
 * dead-lettered; throw {@link NonRetryableJobError} to dead-letter it at once.
 *
 * With a job map ({@link DoctorJobs}), `type` must be one of its names, the method's payload
 * parameter must accept that type's payload, and a `payload` DTO's instances must be of it; a type
 * given as a plain `string` (known only at run time) is not checked. Without a map, anything goes.
 *
 * Handlers must be idempotent: delivery is at-least-once.
 */
export function JobHandler<T extends string, Dto extends PayloadClass<object> = PayloadClass<HandlerPayload<DoctorJobs, T>>>(
  type: HandlerJobType<DoctorJobs, T>,
  options: JobHandlerOptions<DtoOf<HandlerPayload<DoctorJobs, T>, Dto>> = {},
): JobHandlerDecorator<Given<HandlerPayload<DoctorJobs, T>, Dto>> {
  return SetMetadata<string, JobHandlerMetadata>(JOB_HANDLER_METADATA, { ...options, type } as JobHandlerMetadata) as JobHandlerDecorator<never>;
}

/**
 * `Dto` if its instances are payloads of `P` and a `P` has every data field the DTO requires, with
 * a type the DTO accepts; else the expected type in the error (naming the fields at fault).
 */
type DtoOf<P, Dto extends PayloadClass<object>> = 0 extends 1 & P
  ? Dto
  : InstanceType<Dto> extends P
  ? P extends DataOf<InstanceType<Dto>>
    ? Dto
    : { 'DTO fields that the job map payload lacks or types differently': Unmet<P, DataOf<InstanceType<Dto>>> }
  : PayloadClass<P>;
/** A DTO's writable properties that are not methods (get-only accessors are readonly). */
type DataOf<T> = { [K in keyof T as T[K] extends (...args: any[]) => unknown ? never : IsReadonly<T, K> extends true ? never : K]: T[K] };
type IsReadonly<T, K extends keyof T> =
  (<X>() => X extends { [Q in K]: T[K] } ? 1 : 2) extends <X>() => X extends { readonly [Q in K]: T[K] } ? 1 : 2 ? true : false;
/** The fields of `Data` that a `P` does not satisfy. */
type Unmet<P, Data> = {
  [K in keyof Data]-?: K extends keyof P ? ([P[K]] extends [Data[K]] ? never : K) : undefined extends Data[K] ? never : K;
}[keyof Data];

/** What the handler is given: an instance of the DTO, else the map's payload; `any` when unchecked. */
type Given<P, Dto extends PayloadClass<unknown>> = 0 extends 1 & P ? any : InstanceType<Dto>;
