import type { JobContext } from '../handlers/job-context.interface';
import type { Claim, ClaimedJob } from '../store/job-store.interface';
import type { ProcessSpan } from '../tracing/job-tracing';

/**
 * One claim of one job, from its handler's start until the claim is closed (its outcome settled, or
 * given up). A job claimed again after a lost lease is another RunningJob (another token).
 */
export class RunningJob implements Claim {
  /** The claim is closed: shutdown no longer waits for it. */
  closed = false;
  /** Its place among Slots' running handlers while its handler runs, else -1 (Slots' bookkeeping). */
  slot = -1;
  /**
   * When the handler started (Date.now()). NaN until then, not 0: a field first set to a small
   * integer and then to a larger number changes its representation, and with it the hidden class of
   * every RunningJob made after, which threw away the optimised code made for the earlier ones.
   */
  startedAt = Number.NaN;
  /** Time in the handler, once it succeeded (for the job.succeeded event); NaN before, as startedAt. */
  durationMs = Number.NaN;
  /** Released on shutdown, or its lease was lost: its outcome must not be settled. */
  relinquished = false;
  /** A `transaction: true` handler's success: the job was deleted in the handler's transaction, which committed. */
  settledInTransaction = false;
  /** This attempt's span, when it is traced (OpenTelemetry with a tracer provider). */
  span: ProcessSpan | undefined = undefined;
  /**
   * The runner clock's reading when the claim, or the last extension its claim still held, was
   * sent. The database starts the lease after that, so the lease is live until at least
   * leaseFrom + leaseMs.
   */
  leaseFrom: number;
  /** Created when the handler first reads `signal` (most never do: an AbortController per job is not free). */
  private controller?: AbortController;
  private abortReason?: unknown;

  constructor(
    readonly job: ClaimedJob,
    readonly token: string,
    leaseFrom: number,
  ) {
    this.leaseFrom = leaseFrom;
  }

  get id(): string {
    return this.job.id;
  }

  /** The claim as the store names lost ones: job id + claim token. */
  get key(): string {
    return `${this.job.id}:${this.token}`;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }
}

/** What the handler is told about its job; `signal` is made on first read. */
export class HandlerContext implements JobContext {
  readonly id: string;
  readonly type: string;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly createdAt: Date;
  /** The handler's transaction client (`transaction: true` handlers), else undefined. */
  readonly tx: any;
  readonly #entry: RunningJob;

  constructor(entry: RunningJob, tx?: unknown) {
    const { job } = entry;
    this.id = job.id;
    this.type = job.type;
    this.attempt = job.attempt;
    this.maxAttempts = job.maxAttempts;
    this.createdAt = job.createdAt;
    this.tx = tx;
    this.#entry = entry;
  }

  get signal(): AbortSignal {
    return this.#entry.signal;
  }
}

/** Groups claims by the token that holds them (one store call per token). */
export function byToken(entries: RunningJob[]): Map<string, RunningJob[]> {
  const groups = new Map<string, RunningJob[]>();
  for (const entry of entries) {
    const group = groups.get(entry.token);
    if (group) group.push(entry);
    else groups.set(entry.token, [entry]);
  }
  return groups;
}
