import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DOCTOR_JOB_OPTIONS } from '../doctor-job.constants';
import { NOT_A_TRANSACTION, UNKNOWN_TYPE } from '../doctor-job.messages';
import type { ResolvedDoctorJobOptions } from '../doctor-job.options';
import { codePoints, describe } from '../util/describe';
import { EnqueueError } from '../errors/enqueue.error';
import { InvalidArgumentError } from '../errors/invalid-argument.error';
import { JobHandlerRegistry } from '../handlers/job-handler.registry';
import { MAX_PAYLOAD_DEPTH, toDto, toJson } from '../handlers/payload';
import type { NewJob, PendingJob, QueueStats } from '../store/job-store.interface';
import { JobStoreHost } from '../store/job-store.host';
import type { TransactionClientLike, TransactionOptions } from '../store/prisma-client.interface';
import { jobTracing } from '../tracing/job-tracing';
import { SchemaCheck } from './schema-check';
import { findAmbientTransactions, type AmbientOptions, type AmbientTransactions } from './ambient-transaction';
import type { DoctorJobs, EnqueueFirst, EnqueueOptions, EnqueueRest, JobPayload, JobRequest, JobRequests, JobType, TransactionArgument } from './job-map';

const REQUEST_KEYS = new Set(['type', 'payload', 'runAt', 'delayMs', 'maxAttempts', 'priority', 'orderingKey', 'dedupKey']);
/** prepare()'s client argument for `send`: no transaction client to check. */
const STANDALONE = Symbol('send');
/** 10000-01-01T00:00:00Z: later dates do not fit the stores' time formats. */
const MAX_RUN_AT = Date.UTC(10000, 0, 1);

/**
 * Transactional enqueue: jobs are written through the caller's Prisma transaction client, so they
 * exist if and only if that transaction commits.
 */
@Injectable()
export class OutboxService<Jobs extends object = DoctorJobs> {
  private ambient?: AmbientTransactions;
  /** Clients already found to be transaction clients (see prepare). */
  private readonly transactionClients = new WeakSet<object>();
  /** Transactions run by {@link transaction}: whether jobs were written through them. */
  private readonly managed = new WeakMap<object, { wrote: boolean }>();
  /** The enqueue's `send` span (OpenTelemetry, when installed and a tracer provider is registered), whose context each job keeps. */
  private readonly tracing = jobTracing();

  constructor(
    private readonly host: JobStoreHost,
    private readonly registry: JobHandlerRegistry,
    @Inject(DOCTOR_JOB_OPTIONS) private readonly options: ResolvedDoctorJobOptions,
    private readonly moduleRef: ModuleRef,
    private readonly schema: SchemaCheck,
  ) {}

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
      const { outsideTransaction, ...rest } = this.checkOptions(type, options) as EnqueueOptions & AmbientOptions;
      return this.inAmbient(`enqueue("${type}")`, type, outsideTransaction, (tx) => this.enqueue(tx, type as JobType<Jobs>, payload as never, rest));
    }
    const [tx, type, payload, options = {}] = args as [TransactionClientLike, string, unknown, EnqueueOptions?];
    const send = this.tracing.send(typeof type === 'string' ? type : undefined);
    if (send) return send.run(() => this.enqueueOne(tx, type, payload, options, send.traceContext));
    return this.enqueueOne(tx, type, payload, options);
  }

  private async enqueueOne(tx: TransactionClientLike, type: string, payload: unknown, options: unknown, traceContext?: string): Promise<string> {
    const job = await this.prepare(tx, { ...this.checkOptions(type, options), type, payload } as JobRequest<Jobs>, traceContext);
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
    const job = await this.prepare(STANDALONE, { ...this.checkOptions(type, options, 'send'), type, payload } as JobRequest<Jobs>, traceContext);
    return this.host.store.send(job).catch((error: unknown) => this.explain(error, [job]));
  }

  private checkOptions(type: string, options: unknown, call = 'enqueue'): object {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new EnqueueError(`The options of ${call}("${type}") must be an object { runAt?, delayMs?, maxAttempts?, ... }, got ${describe(options)}.`, type);
    }
    return options;
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
        prepared.push(await this.prepare(tx, job, traceContext));
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
    if (!managed || !store.announce) return store.insert(tx, jobs).catch((error: unknown) => this.explain(error, jobs));
    managed.wrote = true;
    return store.insert(tx, jobs, { announceAfterCommit: true }).catch((error: unknown) => this.explain(error, jobs));
  }

  /** A failed insert: when Doctor Job's tables or migrations are missing, says so (and how to fix it) instead of the driver's error. */
  private async explain(error: unknown, jobs: NewJob[]): Promise<never> {
    const problem = await this.schema.recheck().catch(() => undefined);
    if (problem) throw new EnqueueError(problem, jobs[0].type);
    throw error;
  }

  /**
   * Runs `fn` in an interactive transaction of the app's Prisma client and returns its result:
   * the data written through `tx` and the jobs enqueued through it commit together or not at all.
   *
   * On PostgreSQL the runners are woken after the commit (one NOTIFY, shared by commits that
   * land together) rather than from inside the transaction, whose commit would otherwise wait
   * for every other notifying commit.
   */
  async transaction<R, Tx extends TransactionClientLike = TransactionClientLike>(
    fn: (tx: Tx) => Promise<R>,
    options?: TransactionOptions,
  ): Promise<R> {
    const state = { wrote: false };
    const result = await this.host.prisma.$transaction((tx: Tx) => {
      this.managed.set(tx, state);
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

  /**
   * Checks one job and encodes it for the store; `tx`: the transaction client it will be written
   * through (STANDALONE: `send`, outside any); `traceContext`: the enqueue's span (traced enqueues only).
   */
  private async prepare(tx: TransactionClientLike | typeof STANDALONE, request: JobRequest<Jobs>, traceContext?: string): Promise<NewJob> {
    if (request === null || typeof request !== 'object' || Array.isArray(request)) {
      throw new EnqueueError(`Each job must be an object { type, payload, ...options }, got ${describe(request)}.`, '');
    }
    const { type, payload, runAt, delayMs, maxAttempts, priority, orderingKey, dedupKey } = request as {
      type: string;
      payload: unknown;
    } & EnqueueOptions;
    const fail = (message: string, problems: string[] = []) => {
      throw new EnqueueError(problems.length ? `${message}\n  - ${problems.join('\n  - ')}` : message, type, problems);
    };
    if (typeof type !== 'string') fail(`The job type must be a string, got ${describe(type)}.`);
    // Once per client: a property read on Prisma's transaction client (a proxy) costs 3-5 µs
    // (measured), which enqueueMany would otherwise pay twice per job.
    if (tx !== STANDALONE && !this.transactionClients.has(tx as object)) {
      if (!tx || typeof tx.$queryRawUnsafe !== 'function') {
        fail(`enqueue("${type}") needs the Prisma transaction client as its first argument, got ${describe(tx)}.`);
      }
      // Prisma's transaction clients lack $connect; the root client (and a PrismaService) has it.
      if (typeof (tx as { $connect?: unknown }).$connect === 'function') fail(NOT_A_TRANSACTION(type));
      this.transactionClients.add(tx as object);
    }
    const handler = this.registry.get(type);
    if (!handler) fail(UNKNOWN_TYPE(type, this.registry.types()));

    const optionProblems: string[] = [];
    for (const key of Object.keys(request)) {
      if (!REQUEST_KEYS.has(key)) optionProblems.push(`"${key}" is not an enqueue option (known: runAt, delayMs, maxAttempts, priority, orderingKey, dedupKey)`);
    }
    if (runAt !== undefined && !(runAt instanceof Date && runAt.getTime() >= 0 && runAt.getTime() < MAX_RUN_AT)) {
      optionProblems.push(`"runAt" must be a valid Date between 1970 and 9999, got ${runAt instanceof Date ? runAt.toString() : describe(runAt)}`);
    }
    if (delayMs !== undefined && !(Number.isSafeInteger(delayMs) && delayMs >= 0)) {
      optionProblems.push(`"delayMs" must be an integer of 0 or more, got ${describe(delayMs)}`);
    }
    if (runAt !== undefined && delayMs !== undefined) optionProblems.push('give "runAt" or "delayMs", not both');
    if (maxAttempts !== undefined && !(Number.isSafeInteger(maxAttempts) && maxAttempts > 0)) {
      optionProblems.push(`"maxAttempts" must be a positive integer, got ${describe(maxAttempts)}`);
    }
    if (priority !== undefined && !(Number.isInteger(priority) && priority >= -(2 ** 31) && priority < 2 ** 31)) {
      optionProblems.push(`"priority" must be an integer (higher runs first; default 0), got ${describe(priority)}`);
    }
    for (const [name, key] of [['orderingKey', orderingKey], ['dedupKey', dedupKey]] as const) {
      if (key !== undefined && !(typeof key === 'string' && key.length > 0 && codePoints(key) <= 255 && !key.includes('\u0000'))) {
        optionProblems.push(`"${name}" must be a non-empty string of at most 255 characters (Unicode code points, as the database counts them), got ${describe(key)}`);
      }
    }
    if (optionProblems.length) fail(`Invalid options for job "${type}":`, optionProblems);

    const encoded = toJson(payload, MAX_PAYLOAD_DEPTH[this.host.store.dialect]);
    if ('problems' in encoded) fail(`The payload of job "${type}" is not JSON:`, encoded.problems);
    const json = (encoded as { json: string }).json;
    if (handler!.payload) {
      // Validate what the handler will receive: the payload after its trip through JSON.
      const checked = await toDto(handler!.payload, JSON.parse(json));
      if ('problems' in checked) fail(`The payload of job "${type}" fails ${handler!.payload.name}:`, checked.problems);
    }
    return {
      type,
      payload: json,
      maxAttempts: maxAttempts ?? handler!.maxAttempts ?? this.options.maxAttempts,
      priority: priority ?? 0,
      orderingKey,
      dedupKey,
      runAt,
      delayMs,
      traceContext,
    };
  }
}

/** The type of every job of a batch, or undefined when they differ (the send span then names none). */
function commonType(jobs: readonly unknown[]): string | undefined {
  const type = (jobs[0] as { type?: unknown } | null)?.type;
  if (typeof type !== 'string') return undefined;
  for (const job of jobs) if ((job as { type?: unknown } | null)?.type !== type) return undefined;
  return type;
}
