import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DOCTOR_JOB_OPTIONS } from '../doctor-job.constants';
import type { ResolvedDoctorJobOptions } from '../doctor-job.options';
import { JobEvents } from './job-events';

/** The runner's job log lines, written from its lifecycle events. */
@Injectable()
export class JobEventLogger implements OnModuleInit {
  private readonly logger = new Logger('OutboxRunner');

  constructor(
    private readonly events: JobEvents,
    @Inject(DOCTOR_JOB_OPTIONS) private readonly options: ResolvedDoctorJobOptions,
  ) {}

  onModuleInit(): void {
    // One line per success only when asked for (`logSuccesses`): Nest's default logger prints
    // debug lines, and a busy runner would write (and build an event for) a line per job.
    if (this.options.logSuccesses) {
      this.events.on('job.succeeded', (e) => this.logger.log(`Job ${e.id} (${e.type}) succeeded in ${e.durationMs} ms`));
    }
    this.events.on('job.failed', (e) =>
      this.logger.warn(`Job ${e.id} (${e.type}) failed attempt ${e.attempt}/${e.maxAttempts}: ${e.error.message}; next attempt in ${e.nextAttemptInMs} ms`),
    );
    this.events.on('job.dead-lettered', (e) =>
      this.logger.error(`Job ${e.id} (${e.type}) dead-lettered after attempt ${Math.min(e.attempt, e.maxAttempts)}/${e.maxAttempts}: ${e.error.message}`),
    );
  }
}
