import { Logger } from '@nestjs/common';
import { DOCTOR_JOB_OPTIONS } from '../doctor-job.constants';
import { UNKNOWN_TYPE } from '../doctor-job.messages';
import type { ResolvedDoctorJobOptions } from '../doctor-job.options';
import { EnqueueError } from '../errors/enqueue.error';
import { JobEvents, type JobEvent } from '../events/job-events';
import type { JobContext } from '../handlers/job-context.interface';
import { JobHandlerRegistry } from '../handlers/job-handler.registry';
import { MAX_PAYLOAD_DEPTH, toDto, toJson } from '../handlers/payload';
import { JobRunner } from '../runner/job-runner';
import type { PendingJob } from '../store/job-store.interface';
import { JobStoreHost } from '../store/job-store.host';

/** An initialised Nest app or TestingModule (anything with `get`). */
export interface AppLike {
  get<T = any>(token: unknown, options?: { strict?: boolean }): T;
}

export interface DrainOptions {
  /**
   * `'now'` (default): a failed attempt is due again at once, so one drain runs a job through all
   * its attempts. `'backoff'`: retries keep their backoff and are left in the queue (`remaining`).
   */
  retries?: 'now' | 'backoff';
  /** Claim rounds before drain() gives up (a handler that enqueues a job every time it runs never empties the queue). Default 1000. */
  maxRounds?: number;
}

/** What happened to one job during a drain. */
export interface JobOutcome {
  id: string;
  type: string;
  /** `retrying`: its last attempt failed and it waits for its backoff (only with `retries: 'backoff'`). */
  outcome: 'succeeded' | 'dead-lettered' | 'retrying';
  /** Attempts run during this drain. */
  attempts: number;
  /** The error of each failed attempt, in order. */
  errors: string[];
}

export interface DrainReport {
  /** Every job that ran (or was dead-lettered without running), in the order it first started. */
  jobs: JobOutcome[];
  /** Jobs still queued: scheduled for later, or waiting for a retry. */
  remaining: PendingJob[];
}

/**
 * Doctor Job in users' tests, against the app's real database: what is queued, run the queue
 * now through the real handlers, or run one handler. Build the app with `withoutRunner(...)` so the
 * background runner does not race the test for the jobs.
 */
export class JobTester {
  private constructor(
    private readonly host: JobStoreHost,
    private readonly registry: JobHandlerRegistry,
    private readonly events: JobEvents,
    private readonly options: ResolvedDoctorJobOptions,
  ) {}

  /** The tester of an initialised app (`await app.init()` first) or TestingModule. */
  static from(app: AppLike): JobTester {
    const get = <T>(token: unknown) => app.get<T>(token, { strict: false });
    return new JobTester(get(JobStoreHost), get(JobHandlerRegistry), get(JobEvents), get(DOCTOR_JOB_OPTIONS));
  }

  /** Committed jobs in the queue (waiting, scheduled or running), oldest first; of one type if given. */
  enqueued(type?: string): Promise<PendingJob[]> {
    return this.host.store.listJobs({ type, limit: 10_000 });
  }

  /**
   * Runs every due job now, in this process, through the real handlers, DTO validation, retries
   * and dead-lettering, until no job is due. Resolves with what happened to each job.
   */
  async drain(options: DrainOptions = {}): Promise<DrainReport> {
    const { retries = 'now', maxRounds = 1_000 } = options;
    const seen = new Map<string, JobOutcome>();
    const record = (event: JobEvent) => {
      let job = seen.get(event.id);
      if (!job) seen.set(event.id, (job = { id: event.id, type: event.type, outcome: 'retrying', attempts: 0, errors: [] }));
      if (event.name === 'job.started') job.attempts++;
      else if (event.name === 'job.succeeded') job.outcome = 'succeeded';
      else if (event.name === 'job.failed') (job.outcome = 'retrying'), job.errors.push(event.error.message);
      else (job.outcome = 'dead-lettered'), job.errors.push(event.error.message);
    };
    const unsubscribe = this.events.on('*', record);
    const logger = new Logger('JobTester');
    const runner = new JobRunner(
      { ...this.options, notify: false },
      {
        store: this.host.store,
        handlers: this.registry,
        events: this.events,
        // Failures and dead letters are logged from the events by the app's JobEventLogger.
        logger: { log: () => undefined, warn: (m) => logger.warn(m), error: (m) => logger.error(m) },
        retryDelay: retries === 'now' ? () => 0 : undefined,
        transaction: (fn) => Promise.resolve(this.host.prisma.$transaction(fn, { maxWait: this.options.leaseMs, timeout: this.options.leaseMs })),
      },
    );
    runner.start();
    try {
      for (let round = 0; ; round++) {
        await runner.poll();
        await runner.idle();
        if (!(await this.anyDue())) break;
        if (round + 1 >= maxRounds) {
          throw new Error(`drain() gave up after ${maxRounds} claim rounds: jobs keep becoming due (a handler that enqueues a job each time it runs?). Raise maxRounds if that is expected.`);
        }
      }
    } finally {
      await runner.stop();
      unsubscribe();
    }
    return { jobs: [...seen.values()], remaining: await this.enqueued() };
  }

  /**
   * Runs the handler of `type` with `payload` once, without the queue: the payload goes through
   * the same checks as at enqueue (JSON-safe, the handler's DTO) and reaches the handler as it
   * would from the queue. Returns what the handler returned; throws what it threw.
   */
  async perform(type: string, payload: unknown, context: Partial<Omit<JobContext, 'type'>> = {}): Promise<unknown> {
    const handler = this.registry.get(type);
    if (!handler) throw new EnqueueError(`perform(${JSON.stringify(type)}): ${UNKNOWN_TYPE(type, this.registry.types())}`, type);
    const json = toJson(payload, MAX_PAYLOAD_DEPTH[this.host.store.dialect]);
    if ('problems' in json) throw new EnqueueError(`perform("${type}"): the payload cannot be stored as JSON:\n  - ${json.problems.join('\n  - ')}`, type, json.problems);
    let value: unknown = JSON.parse(json.json);
    if (handler.payload) {
      const checked = await toDto(handler.payload, value);
      if ('problems' in checked) throw new EnqueueError(`perform("${type}"): the payload fails ${handler.payload.name}:\n  - ${checked.problems.join('\n  - ')}`, type, checked.problems);
      value = checked.value;
    }
    const maxAttempts = context.maxAttempts ?? handler.maxAttempts ?? this.options.maxAttempts;
    const job = { id: 'perform', attempt: 1, createdAt: new Date(), signal: new AbortController().signal, tx: undefined, ...context, maxAttempts, type };
    // A transaction: true handler runs in a transaction of its own, committed when it returns (no job row to delete).
    if (handler.transaction) return this.host.prisma.$transaction((tx: unknown) => handler.invoke(value, { ...job, tx }));
    return handler.invoke(value, job as JobContext);
  }

  private async anyDue(): Promise<boolean> {
    const { types } = await this.host.store.stats();
    return types.some((t) => t.due > 0);
  }
}
