import { Inject, Injectable, type InjectionToken, type Type } from '@nestjs/common';
import { JobHandler, type JobHandlerOptions } from '../decorators/job-handler.decorator';
import type { JobContext } from '../handlers/job-context.interface';
import { jobTracing } from '../tracing/job-tracing';

/** The part of a BullMQ `Queue` a relay uses. */
export interface BullQueueLike {
  add(name: string, data: unknown, options?: { jobId?: string; telemetry?: { metadata?: string } }): Promise<unknown>;
}

export interface BullMqRelayOptions extends Omit<JobHandlerOptions, 'payload' | 'cron'> {
  /** The BullMQ job name (default: the job type). */
  name?: string;
  /**
   * A traced job's BullMQ job carries the trace context of its `process` span as BullMQ's
   * telemetry metadata (`opts.telemetry.metadata`: the propagation headers as JSON, what
   * bullmq-otel reads), so a worker with BullMQ telemetry continues the trace. A queue with
   * telemetry of its own replaces it with the context of its `add` span (a child of the same span).
   * Default true.
   */
  traceHeaders?: boolean;
}

/**
 * A provider that relays the jobs of one type into a BullMQ queue (provided under `queue`, e.g.
 * with @nestjs/bullmq's `getQueueToken(name)` or your own `new Queue(...)`). The BullMQ job id is
 * `doctor-job-<id>`, so a job relayed twice (at-least-once) is added once: BullMQ ignores a
 * duplicate id. The job is deleted only after Redis accepted the add.
 */
export function BullMqRelay(type: string, queue: InjectionToken, options: BullMqRelayOptions = {}): Type<unknown> {
  const { name = type, traceHeaders = true, ...handlerOptions } = options;
  const tracing = jobTracing();

  @Injectable()
  class Relay {
    constructor(@Inject(queue) readonly queue: BullQueueLike) {}

    @JobHandler(type, handlerOptions)
    async relay(payload: unknown, job: JobContext): Promise<void> {
      const headers = traceHeaders ? tracing.headers() : undefined;
      const jobId = `doctor-job-${job.id}`;
      await this.queue.add(name, payload, headers ? { jobId, telemetry: { metadata: JSON.stringify(headers) } } : { jobId });
    }
  }
  Object.defineProperty(Relay, 'name', { value: `BullMqRelay(${type})` });
  return Relay;
}
