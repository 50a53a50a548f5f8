import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DOCTOR_JOB_OPTIONS } from '../doctor-job.constants';
import type { ResolvedDoctorJobOptions } from '../doctor-job.options';
import { describe } from '../util/describe';
import { EnqueueError } from '../errors/enqueue.error';
import { InvalidArgumentError } from '../errors/invalid-argument.error';
import { JobHandlerRegistry } from '../handlers/job-handler.registry';
import type { NewJob, PendingJob, QueueStats } from '../store/job-store.interface';
import { JobStoreHost } from '../store/job-store.host';
import type { TransactionClientLike, TransactionOptions } from '../store/prisma-client.interface';
import { jobTracing } from '../tracing/job-tracing';
import { SchemaCheck } from './schema-check';
import { checkOptions, JobRequestPreparer, STANDALONE } from './job-request';
import { findAmbientTransactions, type AmbientOptions, type AmbientTransactions } from './ambient-transaction';
import type { DoctorJobs, EnqueueFirst, EnqueueOptions, EnqueueRest, JobPayload, JobRequest, JobRequests, JobType, TransactionArgument } from './job-map';

/**
 * Transactional enqueue: jobs are written through the caller's Prisma transaction client, so they
 * exist if and only if that transaction commits.
 */
@Injectable()
export class OutboxService<Jobs extends object = DoctorJobs> {
  private ambient?: AmbientTransactions;
  /** The checks and encoding of each job before it is written. */
  private readonly requests: JobRequestPreparer;
  /** Transactions run by {@link transaction}: whether jobs were written through them. */
  private readonly managed = new WeakMap<object, { wrote: boolean }>();
  /** The enqueue's `send` span (OpenTelemetry, when installed and a tracer provider is registered), whose context each job keeps. */
  private readonly tracing = jobTracing();

  constructor(
    private readonly host: JobStoreHost,
    registry: JobHandlerRegistry,
    @Inject(DOCTOR_JOB_OPTIONS) options: ResolvedDoctorJobOptions,
    private readonly moduleRef: ModuleRef,
    schema: SchemaCheck,
  ) {
    this.requests = new JobRequestPreparer(host, registry, options, schema);
  }

  /**
   * Writes one job through `tx`, the client of an interactive transaction
   * (`prisma.$transaction(async (tx) => ...)` or {@link transaction}). Checks the type, the payload
   * (JSON-safe, and valid against the handler's DTO) and the options first: when any check fails,
   * it throws an {@link EnqueueError} and writes nothing. Returns the job id.
   *
   * Without `tx`, the job joins the ambient transaction of @nestjs-cls/transactional (a
   * `@Transactional()` method); outside one it is refused, unless `outsideTransaction: true`.
   *
   * `enqueue(tx, type, payload, options?)` or `enqueue(type, payload, options?)`: one signature
   * rather than two overloads, so that a wrong call's compile error names what is wrong with it (the
   * payload, the type) instead of reporting that the other form does not match either.
   */
  enqueue<First extends TransactionClientLike | string, T extends JobType<Jobs>>(
    txOrType: EnqueueFirst<Jobs, First>,
    ...rest: EnqueueRest<Jobs, First, T>
  ): Promise<string>;
  async enqueue(...args: unknown[]): Promise<string> {
    if (typeof args[0] === 'string') {
      const [type, payload, options = {}] = args as [string, unknown, (EnqueueOptions & AmbientOptions)?];
      const { outsideTransaction, ...rest } = checkOptions(type, options) as EnqueueOptions & AmbientOptions;
      return this.inAmbient(`enqueue("${type}")`, type, outsideTransaction, (tx) => this.enqueue(tx, type as JobType<Jobs>, payload as never, rest));
    }
    const [tx, type, payload, options = {}] = args as [TransactionClientLike, string, unknown, EnqueueOptions?];
    const send = this.tracing.send(typeof type === 'string' ? type : undefined);
    if (send) return send.run(() => this.enqueueOne(tx, type, payload, options, send.traceContext));
    return this.enqueueOne(tx, type, payload, options);
  }

  private async enqueueOne(tx: TransactionClientLike, type: string, payload: unknown, options: unknown, traceContext?: string): Promise<string> {
    const job = await this.requests.prepare(tx, { ...checkOptions(type, options), type, payload } as JobRequest<Jobs>, traceContext);
    const [id] = await this.insert(tx, [job]);
    return id;
  }

  /**
   * Writes one job on its own, outside any transaction of the app's, and returns its id once it
   * is committed (the runners are woken too). For work that is not part of a business transaction
   * (a cron fan-out, a controller that only schedules work, a relay hop): when the job must
   * commit with your data, use {@link enqueue} with the transaction client instead.
   *
   * The same checks as `enqueue` (the type, the payload against its DTO and JSON, the options),
   * with an {@link EnqueueError} that writes nothing when one fails; the same dedup and ordering
   * keys. PostgreSQL: one autocommit statement (the insert and the wake-up) on the runner's
   * connections; MariaDB: one statement (a transaction of three or four with an ordering key);
   * SQLite: one statement in a transaction of its own.
   */
  send<T extends JobType<Jobs>>(type: T, payload: JobPayload<Jobs, T>, options?: EnqueueOptions): Promise<string>;
  async send(type: string, payload: unknown, options: unknown = {}): Promise<string> {
    const span = this.tracing.send(typeof type === 'string' ? type : undefined);
    if (span) return span.run(() => this.sendOne(type, payload, options, span.traceContext));
    return this.sendOne(type, payload, options);
  }

  private async sendOne(type: string, payload: unknown, options: unknown, traceContext?: string): Promise<string> {
    const job = await this.requests.prepare(STANDALONE, { ...checkOptions(type, options, 'send'), type, payload } as JobRequest<Jobs>, traceContext);
    return this.host.store.send(job).catch((error: unknown) => this.requests.explain(error, [job]));
  }

  /** Runs `write` with the ambient transaction's client (nestjs-cls), or refuses. */
  private async inAmbient<R>(what: string, type: string, outside: boolean | undefined, write: (tx: TransactionClientLike) => Promise<R>): Promise<R> {
    this.ambient ??= findAmbientTransactions(this.moduleRef);
    if (!this.ambient) {
      throw new EnqueueError(
        `${what} was called without a transaction client, and @nestjs-cls/transactional is not set up in this app ` +
          `(ClsModule with ClsPluginTransactional and the Prisma adapter). Pass the transaction client: ${what.replace('(', '(tx, ')}.`,
        type,
      );
    }
    if (this.ambient.isTransactionActive()) return write(this.ambient.tx as TransactionClientLike);
    if (outside === true) return this.transaction(write);
    throw new EnqueueError(
      `${what} was called outside a transaction. An outbox write outside the transaction that changes your data is ` +
        `almost always a bug: call it from a @Transactional() method, or pass { outsideTransaction: true } to enqueue in a transaction of its own.`,
      type,
    );
  }

  /**
   * Writes many jobs through `tx` in one statement, after checking every one. Returns their ids in order.
   * `enqueueMany(tx, jobs)`, or `enqueueMany(jobs, { outsideTransaction? })` in the ambient transaction.
   */
  enqueueMany<
    First extends TransactionClientLike | readonly unknown[],
    // The job types listed first (ambient form) or after tx: two parameters, since inferring one
    // from both places would also infer it from the tx object.
    const Listed extends readonly JobType<Jobs>[],
    const Types extends readonly JobType<Jobs>[],
  >(
    txOrJobs: First extends readonly unknown[] ? JobRequests<Jobs, Listed> : TransactionArgument<First>,
    ...rest: First extends readonly unknown[] ? [options?: AmbientOptions] : [jobs: JobRequests<Jobs, Types>]
  ): Promise<string[]>;
  async enqueueMany(...args: unknown[]): Promise<string[]> {
    if (Array.isArray(args[0])) {
      const [jobs, options = {}] = args as [JobRequest<Jobs>[], AmbientOptions?];
      return this.inAmbient('enqueueMany(jobs)', '', options.outsideTransaction, (tx) => this.enqueueMany(tx, jobs));
    }
    const [tx, jobs] = args as [TransactionClientLike, JobRequest<Jobs>[]];
    if (!Array.isArray(jobs)) throw new EnqueueError(`enqueueMany expects an array of jobs, got ${describe(jobs)}`, '');
    if (jobs.length === 0) return [];
    const send = this.tracing.send(commonType(jobs), jobs.length);
    if (send) return send.run(() => this.enqueueAll(tx, jobs, send.traceContext));
    return this.enqueueAll(tx, jobs);
  }

  private async enqueueAll(tx: TransactionClientLike, jobs: JobRequest<Jobs>[], traceContext?: string): Promise<string[]> {
    const prepared: NewJob[] = [];
    for (const [index, job] of jobs.entries()) {
      try {
        prepared.push(await this.requests.prepare(tx, job, traceContext));
      } catch (error) {
        if (error instanceof EnqueueError) {
          throw new EnqueueError(`enqueueMany: job [${index}]: ${error.message}`, error.jobType, error.problems);
        }
        throw error;
      }
    }
    return this.insert(tx, prepared);
  }

  private insert(tx: TransactionClientLike, jobs: NewJob[]): Promise<string[]> {
    const managed = this.managed.get(tx);
    const { store } = this.host;
    if (!managed || !store.announce) return store.insert(tx, jobs).catch((error: unknown) => this.requests.explain(error, jobs));
    managed.wrote = true;
    return store.insert(tx, jobs, { announceAfterCommit: true }).catch((error: unknown) => this.requests.explain(error, jobs));
  }

  /**
   * Runs `fn` in an interactive transaction of the app's Prisma client and returns its result:
   * the data written through `tx` and the jobs enqueued through it commit together or not at all.
   *
   * On PostgreSQL the runners are woken after the commit rather than from inside the transaction,
   * whose commit would otherwise wait for every other notifying commit: this instance's at once,
   * in-process; the others, while there are any, by a NOTIFY shared by the commits of the same
   * few milliseconds (announcer.ts, other-listeners.ts).
   */
  async transaction<R, Tx extends TransactionClientLike = TransactionClientLike>(
    fn: (tx: Tx) => Promise<R>,
    options?: TransactionOptions,
  ): Promise<R> {
    const state = { wrote: false };
    const result = await this.host.prisma.$transaction((tx: Tx) => {
      this.managed.set(tx, state);
      this.requests.trust(tx);
      return fn(tx);
    }, options);
    if (state.wrote) this.host.store.announce?.();
    return result;
  }

  /** Jobs waiting in the queue or running, oldest first (for inspection). */
  async pending(options: { type?: string; limit?: number } = {}): Promise<PendingJob[]> {
    const limit = options.limit ?? 100;
    if (!(Number.isSafeInteger(limit) && limit >= 1 && limit <= 1000)) {
      throw new InvalidArgumentError(`limit must be an integer from 1 to 1000, got ${describe(limit)}`);
    }
    return this.host.store.listJobs({ type: options.type, limit });
  }

  /** Queue depth and the age of the oldest due job per type, and dead letters per type. */
  stats(): Promise<QueueStats> {
    return this.host.store.stats();
  }
}

/** The type of every job of a batch, or undefined when they differ (the send span then names none). */
function commonType(jobs: readonly unknown[]): string | undefined {
  const type = (jobs[0] as { type?: unknown } | null)?.type;
  if (typeof type !== 'string') return undefined;
  for (const job of jobs) if ((job as { type?: unknown } | null)?.type !== type) return undefined;
  return type;
}
