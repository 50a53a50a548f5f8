import { Inject, Injectable, type InjectionToken, type Type } from '@nestjs/common';
import { JobHandler, type JobHandlerOptions } from '../decorators/job-handler.decorator';
import type { JobContext } from '../handlers/job-context.interface';

/** The part of a BullMQ `Queue` a relay uses. */
export interface BullQueueLike {
  add(name: string, data: unknown, options?: { jobId?: string }): Promise<unknown>;
}

export interface BullMqRelayOptions extends Omit<JobHandlerOptions, 'payload' | 'cron'> {
  /** The BullMQ job name (default: the job type). */
  name?: string;
}

/**
 * A provider that relays the jobs of one type into a BullMQ queue (provided under `queue`, e.g.
 * with @nestjs/bullmq's `getQueueToken(name)` or your own `new Queue(...)`). The BullMQ job id is
 * `doctor-job-<id>`, so a job relayed twice (at-least-once) is added once: BullMQ ignores a
 * duplicate id. The job is deleted only after Redis accepted the add.
 */
export function BullMqRelay(type: string, queue: InjectionToken, options: BullMqRelayOptions = {}): Type<unknown> {
  const { name = type, ...handlerOptions } = options;

  @Injectable()
  class Relay {
    constructor(@Inject(queue) readonly queue: BullQueueLike) {}

    @JobHandler(type, handlerOptions)
    async relay(payload: unknown, job: JobContext): Promise<void> {
      await this.queue.add(name, payload, { jobId: `doctor-job-${job.id}` });
    }
  }
  Object.defineProperty(Relay, 'name', { value: `BullMqRelay(${type})` });
  return Relay;
}
