import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { JobEvents } from './job-events';

/** The runner's job log lines, written from its lifecycle events. */
@Injectable()
export class JobEventLogger implements OnModuleInit {
  private readonly logger = new Logger('OutboxRunner');

  constructor(private readonly events: JobEvents) {}

  onModuleInit(): void {
    this.events.on('job.succeeded', (e) => {
      if (Logger.isLevelEnabled?.('debug') ?? true) this.logger.debug(`Job ${e.id} (${e.type}) succeeded in ${e.durationMs} ms`);
    });
    this.events.on('job.failed', (e) =>
      this.logger.warn(`Job ${e.id} (${e.type}) failed attempt ${e.attempt}/${e.maxAttempts}: ${e.error.message}; next attempt in ${e.nextAttemptInMs} ms`),
    );
    this.events.on('job.dead-lettered', (e) =>
      this.logger.error(`Job ${e.id} (${e.type}) dead-lettered after attempt ${Math.min(e.attempt, e.maxAttempts)}/${e.maxAttempts}: ${e.error.message}`),
    );
  }
}
