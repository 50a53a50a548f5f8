import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { randomUUID } from 'node:crypto';
import { DOCTOR_JOB_OPTIONS, DOCTOR_JOB_RUNNER_NAME } from '../doctor-job.constants';
import { LEASE_EXPIRED_ON_LAST_ATTEMPT, NO_HANDLER_AT_RUN } from '../doctor-job.messages';
import type { ResolvedDoctorJobOptions } from '../doctor-job.options';
import { NonRetryableJobError } from '../errors/non-retryable.error';
import { JobHandlerRegistry, type RegisteredHandler } from '../handlers/job-handler.registry';
import { toDto } from '../handlers/payload';
import type { ClaimedJob, JobError } from '../store/job-store.interface';
import { JobStoreHost } from '../store/job-store.host';
import { backoffDelay } from './backoff';

interface RunningJob {
  job: ClaimedJob;
  token: string;
  controller: AbortController;
  done: Promise<void>;
  released: boolean;
}

/**
 * Claims due jobs and runs their handlers: polls on an interval registered in SchedulerRegistry,
 * and claims again at once while a claim comes back full and slots are free. One claim loop at
 * a time per app instance; at most `concurrency` handlers at once.
 */
@Injectable()
export class OutboxRunner implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OutboxRunner.name);
  private readonly running = new Map<string, RunningJob>();
  private active = false;
  private loop: Promise<void> | null = null;
  private pollAgain = false;
  private moreDue = false;
  private outage = false;

  constructor(
    @Inject(DOCTOR_JOB_OPTIONS) private readonly options: ResolvedDoctorJobOptions,
    private readonly host: JobStoreHost,
    private readonly registry: JobHandlerRegistry,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    if (this.options.autoStart) this.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  /** True between start() and stop(). */
  get isRunning(): boolean {
    return this.active;
  }

  /** Handlers running now. */
  get inFlight(): number {
    return this.running.size;
  }

  /** Starts polling (done on bootstrap unless `autoStart: false`). */
  start(): void {
    if (this.active) return;
    this.active = true;
    this.scheduler.addInterval(DOCTOR_JOB_RUNNER_NAME, setInterval(() => void this.poll(), this.options.pollIntervalMs));
    void this.poll();
  }

  /**
   * Stops claiming, waits up to `shutdownTimeoutMs` for running handlers, then aborts the rest
   * and releases their jobs without consuming the attempt.
   */
  async stop(): Promise<void> {
    if (!this.active) return;
    this.active = false;
    if (this.scheduler.doesExist('interval', DOCTOR_JOB_RUNNER_NAME)) this.scheduler.deleteInterval(DOCTOR_JOB_RUNNER_NAME);
    await this.loop;
    if (this.running.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.options.shutdownTimeoutMs)));
    const finished = Promise.all([...this.running.values()].map((r) => r.done));
    const outcome = await Promise.race([finished, timedOut]);
    clearTimeout(timer);
    if (outcome !== 'timeout' || this.running.size === 0) return;
    await this.releaseRunning();
  }

  /** Runs one claim loop now (the interval calls this); joins the loop already under way. */
  poll(): Promise<void> {
    if (!this.active) return Promise.resolve();
    if (this.loop) {
      this.pollAgain = true;
      return this.loop;
    }
    this.loop = this.claimLoop().finally(() => (this.loop = null));
    return this.loop;
  }

  private async claimLoop(): Promise<void> {
    do {
      this.pollAgain = false;
      while (this.active) {
        const free = this.options.concurrency - this.running.size;
        if (free <= 0) break;
        const wanted = Math.min(this.options.batchSize, free);
        const token = randomUUID();
        let jobs: ClaimedJob[];
        try {
          jobs = await this.host.store.claim(wanted, this.options.leaseMs, token);
          this.databaseAnswered();
        } catch (error) {
          this.databaseFailed('claim jobs', error);
          return;
        }
        this.moreDue = jobs.length === wanted;
        if (!this.active) {
          // stop() came while the claim was in flight: give the jobs straight back.
          await this.release(jobs.map((j) => j.id), token);
          return;
        }
        for (const job of jobs) this.run(job, token);
        if (!this.moreDue) break;
      }
    } while (this.pollAgain && this.active);
  }

  private run(job: ClaimedJob, token: string): void {
    const entry = { job, token, controller: new AbortController(), released: false } as RunningJob;
    entry.done = this.execute(entry)
      .catch((error) => this.logger.error(`Job ${job.id} (${job.type}): unexpected runner error: ${toJobError(error).message}`))
      .finally(() => {
      this.running.delete(job.id);
      if (this.moreDue && this.active) void this.poll();
    });
    this.running.set(job.id, entry);
  }

  private async execute(entry: RunningJob): Promise<void> {
    const { job, token, controller } = entry;
    const handler = this.registry.get(job.type);
    if (job.attempt > job.maxAttempts) return this.deadLetter(entry, { message: LEASE_EXPIRED_ON_LAST_ATTEMPT(job.maxAttempts) });
    if (!handler) return this.deadLetter(entry, { message: NO_HANDLER_AT_RUN(job.type) });

    let payload: unknown = job.payload;
    if (handler.payload) {
      const checked = await toDto(handler.payload, job.payload);
      if ('problems' in checked) {
        const message = `The payload fails ${handler.payload.name}:\n  - ${checked.problems.join('\n  - ')}`;
        return this.deadLetter(entry, { message });
      }
      payload = checked.value;
    }
    const started = Date.now();
    try {
      await handler.invoke(payload, {
        id: job.id,
        type: job.type,
        attempt: job.attempt,
        maxAttempts: job.maxAttempts,
        createdAt: job.createdAt,
        signal: controller.signal,
      });
    } catch (thrown) {
      if (entry.released) return;
      const error = toJobError(thrown);
      if (thrown instanceof NonRetryableJobError || job.attempt >= job.maxAttempts) return this.deadLetter(entry, error);
      return this.retry(entry, handler, error);
    }
    if (entry.released) return;
    await this.settle(entry, 'complete', () => this.host.store.complete(job.id, token));
    this.logger.debug(`Job ${job.id} (${job.type}) succeeded in ${Date.now() - started} ms`);
  }

  private async retry(entry: RunningJob, handler: RegisteredHandler, error: JobError): Promise<void> {
    const { job, token } = entry;
    const delay = backoffDelay(job.attempt, { ...this.options.backoff, ...handler.backoff });
    const ok = await this.settle(entry, 'retry', () => this.host.store.retry(job.id, token, delay, error));
    if (ok) this.logger.warn(`Job ${job.id} (${job.type}) failed attempt ${job.attempt}/${job.maxAttempts}: ${error.message}; next attempt in ${delay} ms`);
  }

  private async deadLetter(entry: RunningJob, error: JobError): Promise<void> {
    const { job, token } = entry;
    const ok = await this.settle(entry, 'dead-letter', () => this.host.store.deadLetter(job.id, token, error));
    if (ok) this.logger.error(`Job ${job.id} (${job.type}) dead-lettered after attempt ${Math.min(job.attempt, job.maxAttempts)}/${job.maxAttempts}: ${error.message}`);
  }

  /** Runs a fenced settle; false when the claim was lost (lease expired and taken) or the database failed. */
  private async settle(entry: RunningJob, what: string, write: () => Promise<boolean>): Promise<boolean> {
    try {
      const ok = await write();
      this.databaseAnswered();
      if (!ok && !entry.released) {
        this.logger.warn(
          `Job ${entry.job.id} (${entry.job.type}): ${what} skipped, its claim no longer holds ` +
            `(the lease of ${this.options.leaseMs} ms ran out and the job was claimed again, or it was released).`,
        );
      }
      return ok;
    } catch (error) {
      this.databaseFailed(`${what} job ${entry.job.id}`, error);
      return false;
    }
  }

  private async releaseRunning(): Promise<void> {
    const byToken = new Map<string, string[]>();
    for (const entry of this.running.values()) {
      entry.released = true;
      entry.controller.abort(new Error('Doctor Job is shutting down'));
      byToken.set(entry.token, [...(byToken.get(entry.token) ?? []), entry.job.id]);
    }
    let count = 0;
    for (const [token, ids] of byToken) count += await this.release(ids, token);
    this.logger.warn(
      `Shutdown timeout (${this.options.shutdownTimeoutMs} ms) passed with ${this.running.size} handler(s) still running: ` +
        `aborted them and released ${count} job(s) for another worker, attempt not consumed.`,
    );
  }

  private async release(ids: string[], token: string): Promise<number> {
    if (ids.length === 0) return 0;
    try {
      return await this.host.store.release(ids, token);
    } catch (error) {
      this.databaseFailed(`release jobs ${ids.join(', ')}`, error);
      return 0;
    }
  }

  private databaseAnswered(): void {
    if (!this.outage) return;
    this.outage = false;
    this.logger.log('The database answers again; claiming resumed.');
  }

  /** Logs an outage once, not once per poll; the interval keeps retrying. */
  private databaseFailed(what: string, error: unknown): void {
    if (this.outage) return;
    this.outage = true;
    this.logger.error(
      `Could not ${what}: ${toJobError(error).message.split('\n')[0]}. Retrying every ${this.options.pollIntervalMs} ms; ` +
        `further failures are not logged until the database answers again. Jobs not settled become due again when their lease ends.`,
    );
  }
}

function toJobError(thrown: unknown): JobError {
  if (thrown instanceof Error) return { message: thrown.message || thrown.name, stack: thrown.stack };
  return { message: typeof thrown === 'string' ? thrown : `Non-error thrown: ${safeString(thrown)}` };
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
