import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { DOCTOR_JOB_OPTIONS, DOCTOR_JOB_RUNNER_NAME } from '../doctor-job.constants';
import { NO_SCHEDULE_MODULE, RUNNER_NOT_STARTED } from '../doctor-job.messages';
import type { ResolvedDoctorJobOptions } from '../doctor-job.options';
import { JobEvents } from '../events/job-events';
import { JobHandlerRegistry } from '../handlers/job-handler.registry';
import { SchemaCheck } from '../outbox/schema-check';
import { JobStoreHost } from '../store/job-store.host';
import { JobRunner } from './job-runner';

/**
 * Claims due jobs and runs their handlers (the Nest side of the runner): starts on application
 * bootstrap unless `autoStart: false`, polls on an interval registered in SchedulerRegistry as
 * `doctor-job.runner`, and stops on module destroy. The work is done by a JobRunner and its
 * parts (lib/runner/job-runner.ts).
 */
@Injectable()
export class OutboxRunner implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OutboxRunner.name);
  /** Built at the first start(), once the store exists. */
  private runner?: JobRunner;

  constructor(
    @Inject(DOCTOR_JOB_OPTIONS) private readonly options: ResolvedDoctorJobOptions,
    private readonly host: JobStoreHost,
    private readonly registry: JobHandlerRegistry,
    private readonly events: JobEvents,
    private readonly schema: SchemaCheck,
    @Optional() private readonly scheduler?: SchedulerRegistry,
  ) {}

  onModuleInit(): void {
    if (!this.scheduler) throw new Error(NO_SCHEDULE_MODULE);
  }

  /**
   * Checks that Doctor Job's tables and migrations are in the database (one line naming
   * `npx doctor-job migrate` if not, and the runner stays off), then starts unless `autoStart: false`.
   */
  async onApplicationBootstrap(): Promise<void> {
    let problem: string | undefined;
    try {
      problem = await this.schema.problem();
    } catch (error) {
      // The database does not answer: the runner starts and logs the outage as it polls.
      this.logger.warn(`Could not check Doctor Job's tables at start-up: ${(error as Error)?.message ?? String(error)}`);
    }
    if (problem) return void this.logger.error(this.options.autoStart ? RUNNER_NOT_STARTED(problem) : problem);
    if (this.options.autoStart) this.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  /** True between start() and stop(). */
  get isRunning(): boolean {
    return this.runner?.isRunning ?? false;
  }

  /** Handlers running now (not counting those released at shutdown). */
  get inFlight(): number {
    return this.runner?.inFlight ?? 0;
  }

  /** This instance's name in the jobs it claims (their `lockedBy`: `hostname:pid:random`); undefined before the first start(). */
  get instance(): string | undefined {
    return this.runner?.instance;
  }

  /** Starts polling (done on bootstrap unless `autoStart: false`). */
  start(): void {
    if (this.isRunning) return;
    const { store, prisma } = this.host;
    // A transaction: true handler's transaction may stay open as long as its lease, and wait as long for a connection.
    const wait = { maxWait: this.options.leaseMs, timeout: this.options.leaseMs };
    this.runner ??= new JobRunner(this.options, {
      store,
      handlers: this.registry,
      events: this.events,
      logger: this.logger,
      transaction: (fn) => Promise.resolve(prisma.$transaction(fn, wait)),
    });
    this.scheduler!.addInterval(DOCTOR_JOB_RUNNER_NAME, setInterval(() => void this.poll(), this.options.pollIntervalMs));
    this.runner.start();
  }

  /**
   * Stops claiming, waits up to `shutdownTimeoutMs` for running handlers (and a claim under way),
   * then aborts the rest and releases their jobs without consuming the attempt.
   */
  async stop(): Promise<void> {
    if (!this.isRunning) return;
    if (this.scheduler!.doesExist('interval', DOCTOR_JOB_RUNNER_NAME)) this.scheduler!.deleteInterval(DOCTOR_JOB_RUNNER_NAME);
    await this.runner!.stop();
  }

  /** Runs one claim loop now (the interval calls this); joins the loop already under way. */
  poll(): Promise<void> {
    return this.runner?.poll() ?? Promise.resolve();
  }
}
