import { SetMetadata } from '@nestjs/common';
import { JOB_HANDLER_METADATA } from '../doctor-job.constants';
import type { BackoffOptions } from '../doctor-job.options';

export interface JobHandlerOptions {
  /**
   * A class-validator DTO. Payloads are checked against it when enqueued and again before the
   * handler runs; the handler receives an instance of it (class-transformer's plainToInstance).
   */
  payload?: new (...args: any[]) => object;
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
}

export interface JobHandlerMetadata extends JobHandlerOptions {
  type: string;
}

/**
 * Marks a provider method as the handler of one job type. It is called as
 * `method(payload, context)` with the payload (a DTO instance when `payload` is set) and a
 * {@link JobContext}. Throwing fails the attempt: the job is retried after a backoff, then
 * dead-lettered; throw {@link NonRetryableJobError} to dead-letter it at once.
 *
 * Handlers must be idempotent: delivery is at-least-once.
 */
export function JobHandler(type: string, options: JobHandlerOptions = {}): MethodDecorator {
  return SetMetadata<string, JobHandlerMetadata>(JOB_HANDLER_METADATA, { ...options, type });
}
