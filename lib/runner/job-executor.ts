import {
  LEASE_EXPIRED_ON_LAST_ATTEMPT,
  NO_HANDLER_AT_RUN,
  NO_HANDLER_TRANSACTIONS,
  PAYLOAD_REJECTED,
  TIMED_OUT,
  TRANSACTION_CLAIM_LOST,
  UNEXPECTED_RUNNER_ERROR,
} from '../doctor-job.messages';
import { JobTimeoutError } from '../errors/job-timeout.error';
import { NonRetryableJobError } from '../errors/non-retryable.error';
import type { JobEvents } from '../events/job-events';
import type { RegisteredHandler } from '../handlers/job-handler.registry';
import { toDto } from '../handlers/payload';
import type { ClaimedJob, DeadLetterReason } from '../store/job-store.interface';
import type { TransactionClientLike } from '../store/prisma-client.interface';
import { NO_TRACING, type JobTracing } from '../tracing/job-tracing';
import type { FailureSettler } from './failure-settler';
import { toJobError } from './job-error';
import type { RunnerLog } from './outage-log';
import { HandlerContext, RunningJob } from './running-job';
import type { Slots } from './slots';

/** How `transaction: true` handlers run: a transaction of the app's Prisma client, and the fenced delete inside it. */
export interface HandlerTransactions {
  run<T>(fn: (tx: TransactionClientLike) => Promise<T>): Promise<T>;
  complete(tx: TransactionClientLike, claim: RunningJob): Promise<boolean>;
}

export interface ExecutorCallbacks {
  /** A handler returned and freed its slot. */
  slotFreed(): void;
  /** A handler succeeded: its success is to be settled (batched). */
  succeeded(entry: RunningJob): void;
}

/**
 * The executor: runs one claimed job's handler and decides its outcome. Every job takes the
 * same path: refuse it (lease ran out on its last attempt, no handler), check its payload
 * (handlers with a DTO), run the handler (raced against its timeout, if any), then hand the
 * outcome on. Jobs with nothing to check or race pay for no extra promise.
 */
export class JobExecutor {
  /** The claim whose jobs run now, and whether they are traced: the tracer provider is looked up once per claim. */
  private claimToken: string | undefined;
  private traced = false;

  constructor(
    private readonly handlers: { get(type: string): RegisteredHandler | undefined },
    /** How long after failed attempt `attempt` the job is due again. */
    private readonly retryDelay: (attempt: number, handler: RegisteredHandler) => number,
    private readonly slots: Slots,
    private readonly failures: FailureSettler,
    private readonly events: JobEvents,
    private readonly logger: RunnerLog,
    private readonly callbacks: ExecutorCallbacks,
    private readonly transactions?: HandlerTransactions,
    /** Spans of each attempt (OpenTelemetry); without a tracer provider no span is made. */
    private readonly tracing: JobTracing = NO_TRACING,
  ) {}

  run(job: ClaimedJob, token: string, leaseFrom: number): void {
    const entry = new RunningJob(job, token, leaseFrom);
    this.slots.occupy(entry);
    if (token !== this.claimToken) {
      this.claimToken = token;
      this.traced = this.tracing.processing?.() ?? true;
    }
    if (this.traced) entry.span = this.tracing.process(job);
    const handler = this.handlers.get(job.type);
    if (job.attempt > job.maxAttempts) return void this.settleFailure(entry, { message: LEASE_EXPIRED_ON_LAST_ATTEMPT(job.maxAttempts) }, undefined, undefined, undefined, 'lease-expired');
    if (!handler) return void this.settleFailure(entry, { message: NO_HANDLER_AT_RUN(job.type) }, undefined, undefined, undefined, 'no-handler');
    const outcome = handler.payload ? this.checked(handler, job.payload).then((payload) => this.call(entry, handler, payload)) : this.call(entry, handler, job.payload);
    outcome.then(
      () => this.succeeded(entry),
      (thrown) => this.failed(entry, handler, thrown),
    );
  }

  /** The payload as the handler's DTO instance; rejects with PayloadRejected when it fails the DTO. */
  private async checked(handler: RegisteredHandler, payload: unknown): Promise<unknown> {
    let checked: Awaited<ReturnType<typeof toDto>>;
    try {
      checked = await toDto(handler.payload!, payload);
    } catch (error) {
      throw new RunnerFault(error);
    }
    if ('problems' in checked) throw new PayloadRejected(PAYLOAD_REJECTED(handler.payload!.name, checked.problems));
    return checked.value;
  }

  /** Starts the handler (one that throws at once gives a rejected promise), raced against its timeout. */
  private call(entry: RunningJob, handler: RegisteredHandler, payload: unknown): Promise<unknown> {
    const { job } = entry;
    entry.startedAt = Date.now();
    if (this.events.has('job.started')) {
      this.events.emit({ name: 'job.started', id: job.id, type: job.type, attempt: job.attempt, maxAttempts: job.maxAttempts });
    }
    // Traced: the handler runs with its attempt's span active, so its own spans are children of it.
    const { span } = entry;
    if (handler.transaction) return span ? span.run(() => this.inTransaction(entry, handler, payload)) : this.inTransaction(entry, handler, payload);
    const running = span ? span.run(() => handler.invoke(payload, new HandlerContext(entry))) : handler.invoke(payload, new HandlerContext(entry));
    return handler.timeoutMs ? withTimeout(running, handler.timeoutMs, entry) : running;
  }

  /**
   * A `transaction: true` handler: runs with `job.tx`, then deletes its job in the same
   * transaction, fenced by the claim token. A lost claim (or a handler that throws) rolls the
   * transaction back, so nothing the handler wrote commits.
   */
  private inTransaction(entry: RunningJob, handler: RegisteredHandler, payload: unknown): Promise<unknown> {
    const transactions = this.transactions;
    if (!transactions) return Promise.reject(new Error(NO_HANDLER_TRANSACTIONS(handler.type)));
    return transactions.run(async (tx) => {
      const running = handler.invoke(payload, new HandlerContext(entry, tx));
      await (handler.timeoutMs ? withTimeout(running, handler.timeoutMs, entry) : running);
      if (entry.relinquished || !(await transactions.complete(tx, entry))) throw new ClaimLost();
      entry.settledInTransaction = true;
    });
  }

  /** The handler returned: its slot frees at once, and its success joins the next batch. */
  private succeeded(entry: RunningJob): void {
    try {
      entry.durationMs = Date.now() - entry.startedAt;
      this.vacate(entry);
      if (entry.relinquished && !entry.settledInTransaction) {
        entry.span?.abandoned('relinquished');
        return this.slots.close(entry);
      }
      entry.span?.succeeded();
      if (entry.settledInTransaction) return this.committed(entry);
      this.callbacks.succeeded(entry);
    } catch (error) {
      this.unexpected(entry, error);
    }
  }

  /** The handler threw or timed out (or the payload failed its DTO): retry after a backoff, or dead-letter. */
  private failed(entry: RunningJob, handler: RegisteredHandler, thrown: unknown): void {
    try {
      if (thrown instanceof RunnerFault) return this.unexpected(entry, thrown.cause);
      this.vacate(entry);
      if (thrown instanceof ClaimLost) {
        entry.span?.abandoned('claim_lost');
        if (!entry.relinquished) this.logger.warn(TRANSACTION_CLAIM_LOST(entry.job.id, entry.job.type));
        return this.slots.close(entry);
      }
      if (entry.relinquished) {
        entry.span?.abandoned('relinquished', thrown);
        return this.slots.close(entry);
      }
      if (thrown instanceof PayloadRejected) return void this.settleFailure(entry, { message: thrown.message }, undefined, undefined, thrown, 'invalid-payload');
      const { job } = entry;
      const error = toJobError(thrown);
      const durationMs = Date.now() - entry.startedAt;
      if (thrown instanceof NonRetryableJobError) return void this.settleFailure(entry, error, durationMs, undefined, thrown, 'non-retryable');
      if (job.attempt >= job.maxAttempts) return void this.settleFailure(entry, error, durationMs, undefined, thrown);
      void this.settleFailure(entry, error, durationMs, this.retryDelay(job.attempt, handler), thrown);
    } catch (error) {
      this.unexpected(entry, error);
    }
  }

  /**
   * Settles a failure: a retry after `retryInMs`, or (without it) the move to the dead letters with
   * `reason`. `thrown`: what failed, for the span.
   */
  private async settleFailure(
    entry: RunningJob,
    error: { message: string; stack?: string },
    durationMs?: number,
    retryInMs?: number,
    thrown: unknown = error,
    reason: DeadLetterReason = 'failed',
  ): Promise<void> {
    entry.span?.failed(thrown, retryInMs);
    this.vacate(entry);
    try {
      if (retryInMs === undefined) await this.failures.deadLetter(entry, error, durationMs, reason);
      else await this.failures.retry(entry, retryInMs, error, durationMs!);
    } catch (thrown) {
      return this.unexpected(entry, thrown);
    }
    this.slots.close(entry);
  }

  /** A `transaction: true` handler's transaction committed with the job's deletion. */
  private committed(entry: RunningJob): void {
    const { job } = entry;
    if (this.events.has('job.succeeded')) {
      this.events.emit({ name: 'job.succeeded', id: job.id, type: job.type, attempt: job.attempt, maxAttempts: job.maxAttempts, durationMs: entry.durationMs });
    }
    this.slots.close(entry);
  }

  private unexpected(entry: RunningJob, error: unknown): void {
    entry.span?.abandoned('runner_error', error);
    this.logger.error(UNEXPECTED_RUNNER_ERROR(entry.job.id, entry.job.type, toJobError(error).message));
    this.vacate(entry);
    this.slots.close(entry);
  }

  private vacate(entry: RunningJob): void {
    if (this.slots.vacate(entry)) this.callbacks.slotFreed();
  }
}

/** A `transaction: true` handler finished, but its claim no longer held: its transaction was rolled back. */
class ClaimLost extends Error {}

/** The payload failed the handler's DTO: the job is dead-lettered with the problems. */
class PayloadRejected extends Error {}

/** The runner itself failed (not the handler): logged, nothing settled. */
class RunnerFault extends Error {
  constructor(override readonly cause: unknown) {
    super('runner fault');
  }
}

/** Rejects when `timeoutMs` passes first, aborting the handler's signal; the handler may go on. */
function withTimeout(running: Promise<unknown>, timeoutMs: number, entry: RunningJob): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new JobTimeoutError(TIMED_OUT(timeoutMs));
      entry.abort(error);
      reject(error);
    }, timeoutMs);
  });
  running.catch(() => undefined); // a handler that fails after its timeout has nobody to tell
  return Promise.race([running, timeout]).finally(() => clearTimeout(timer));
}
