import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { JobEvents } from './job-events';

/** The runner's job log lines, written from its lifecycle events. */
@Injectable()
export class JobEventLogger implements OnModuleInit {
  private readonly logger = new Logger('OutboxRunner');

  constructor(private readonly events: JobEvents) {}

  onModuleInit(): void {
    // One line per success, at debug level: listened to only when debug logging is on at start-up,
    // so that a busy runner does not build an event per job for a line nobody prints.
    if (Logger.isLevelEnabled?.('debug') ?? true) {
      this.events.on('job.succeeded', (e) => this.logger.debug(`Job ${e.id} (${e.type}) succeeded in ${e.durationMs} ms`));
    }
    this.events.on('job.failed', (e) =>
      this.logger.warn(`Job ${e.id} (${e.type}) failed attempt ${e.attempt}/${e.maxAttempts}: ${e.error.message}; next attempt in ${e.nextAttemptInMs} ms`),
    );
    this.events.on('job.dead-lettered', (e) =>
      this.logger.error(`Job ${e.id} (${e.type}) dead-lettered after attempt ${Math.min(e.attempt, e.maxAttempts)}/${e.maxAttempts}: ${e.error.message}`),
    );
  }
}
