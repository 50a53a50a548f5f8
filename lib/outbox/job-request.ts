import { NOT_A_TRANSACTION, UNKNOWN_TYPE } from '../doctor-job.messages';
import type { ResolvedDoctorJobOptions } from '../doctor-job.options';
import { codePoints, describe } from '../util/describe';
import { EnqueueError } from '../errors/enqueue.error';
import { JobHandlerRegistry } from '../handlers/job-handler.registry';
import { MAX_PAYLOAD_DEPTH, toDto, toJson } from '../handlers/payload';
import type { NewJob } from '../store/job-store.interface';
import { JobStoreHost } from '../store/job-store.host';
import type { TransactionClientLike } from '../store/prisma-client.interface';
import { SchemaCheck } from './schema-check';
import type { EnqueueOptions, JobRequest } from './job-map';

const REQUEST_KEYS = new Set(['type', 'payload', 'runAt', 'delayMs', 'maxAttempts', 'priority', 'orderingKey', 'dedupKey']);
/** prepare()'s client argument for `send`: no transaction client to check. */
export const STANDALONE = Symbol('send');
/** 10000-01-01T00:00:00Z: later dates do not fit the stores' time formats. */
const MAX_RUN_AT = Date.UTC(10000, 0, 1);

/** The options argument of `enqueue`/`send`: an object, or an {@link EnqueueError} naming the call. */
export function checkOptions(type: string, options: unknown, call = 'enqueue'): object {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new EnqueueError(`The options of ${call}("${type}") must be an object { runAt?, delayMs?, maxAttempts?, ... }, got ${describe(options)}.`, type);
  }
  return options;
}

/**
 * The checks an enqueue makes before it writes anything (the client, the type, the options, the
 * payload against JSON and the handler's DTO), and the encoding of a job for the store. Kept
 * apart from {@link OutboxService}, which only decides where and how the prepared jobs are written.
 */
export class JobRequestPreparer {
  /** Clients already found to be transaction clients (see prepare). */
  private readonly transactionClients = new WeakSet<object>();

  constructor(
    private readonly host: JobStoreHost,
    private readonly registry: JobHandlerRegistry,
    private readonly options: ResolvedDoctorJobOptions,
    private readonly schema: SchemaCheck,
  ) {}

  /** Vouches for `tx` as a transaction client (one outbox.transaction made): its enqueues skip the check. */
  trust(tx: object): void {
    this.transactionClients.add(tx);
  }

  /**
   * Checks one job and encodes it for the store; `tx`: the transaction client it will be written
   * through (STANDALONE: `send`, outside any); `traceContext`: the enqueue's span (traced enqueues only).
   */
  async prepare<Jobs extends object>(tx: TransactionClientLike | typeof STANDALONE, request: JobRequest<Jobs>, traceContext?: string): Promise<NewJob> {
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

  /** A failed insert: when Doctor Job's tables or migrations are missing, says so (and how to fix it) instead of the driver's error. */
  async explain(error: unknown, jobs: NewJob[]): Promise<never> {
    const problem = await this.schema.recheck().catch(() => undefined);
    if (problem) throw new EnqueueError(problem, jobs[0].type);
    throw error;
  }
}
