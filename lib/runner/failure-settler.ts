import { CLAIM_LOST } from '../doctor-job.messages';
import type { JobEvents } from '../events/job-events';
import type { DeadLetterReason, JobError, JobStore } from '../store/job-store.interface';
import type { OutageLog, RunnerLog } from './outage-log';
import type { RunningJob } from './running-job';

/**
 * Settles the outcomes other than success, one claim at a time, fenced by its token: a retry
 * after a backoff, or the move to the dead letters. Emits the matching event only when the claim
 * still held and the write succeeded. (Successes are settled in batches: CompletionBatcher.)
 */
export class FailureSettler {
  constructor(
    private readonly store: JobStore,
    private readonly leaseMs: number,
    private readonly events: JobEvents,
    private readonly outage: OutageLog,
    private readonly logger: RunnerLog,
  ) {}

  async retry(entry: RunningJob, delayMs: number, error: JobError, durationMs: number): Promise<void> {
    const { job, token } = entry;
    if (await this.settle(entry, 'retry', () => this.store.retry(job.id, token, delayMs, error))) {
      this.events.emit({ name: 'job.failed', id: job.id, type: job.type, attempt: job.attempt, maxAttempts: job.maxAttempts, durationMs, error, nextAttemptInMs: delayMs });
    }
  }

  async deadLetter(entry: RunningJob, error: JobError, durationMs?: number, reason: DeadLetterReason = 'failed'): Promise<void> {
    const { job, token } = entry;
    if (await this.settle(entry, 'dead-letter', () => this.store.deadLetter(job.id, token, error, reason))) {
      this.events.emit({ name: 'job.dead-lettered', id: job.id, type: job.type, attempt: job.attempt, maxAttempts: job.maxAttempts, durationMs, error, reason });
    }
  }

  /** Runs a fenced write; false when the claim no longer held (lease expired and taken) or the database failed. */
  private async settle(entry: RunningJob, what: string, write: () => Promise<boolean>): Promise<boolean> {
    const held = await this.outage.run(`${what} job ${entry.job.id}`, write);
    if (held === false && !entry.relinquished) this.logger.warn(CLAIM_LOST(entry.job.id, entry.job.type, what, this.leaseMs));
    return held === true;
  }
}
