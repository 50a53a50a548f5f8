/** The shapes of the tracing interface (JobTracing and its spans), apart so both implementations can import them without importing each other. */
import type { ClaimedJob } from '../store/job-store.interface';

/** The span of one enqueue (`send <type>`, kind PRODUCER). */
export interface SendSpan {
  /** The trace context to store with the job(s): this span's, so that their process spans are its children. */
  readonly traceContext: string | undefined;
  /**
   * Runs the enqueue with this span active (so spans of the insert, e.g. Prisma's, are its
   * children) and ends it: an id (one job) becomes `messaging.message.id`; a rejection is recorded.
   */
  run<T extends string | string[]>(enqueue: () => Promise<T>): Promise<T>;
}

/** Why an attempt's span ended without a success or a failure of the handler. */
export type AbandonReason = 'relinquished' | 'claim_lost' | 'runner_error';

/** The span of one attempt of one job (`process <type>`, kind CONSUMER). Ends once: later calls do nothing. */
export interface ProcessSpan {
  /** Runs `fn` (the handler) with this span active, so the handler's own spans are its children. */
  run<T>(fn: () => T): T;
  /** The handler succeeded. */
  succeeded(): void;
  /**
   * The attempt failed: the error is recorded, the status is ERROR; `retryInMs` given: the job
   * runs again after it; undefined: the job is dead-lettered.
   */
  failed(error: unknown, retryInMs?: number): void;
  /**
   * The attempt ended without an outcome of its own: `relinquished` (released at shutdown, or its
   * lease was lost to another worker), `claim_lost` (a transactional handler's claim did not hold at
   * commit), `runner_error` (a fault of the runner, `error`).
   */
  abandoned(reason: AbandonReason, error?: unknown): void;
}

export interface JobTracing {
  /** The span of an enqueue of `count` jobs (batch: `count` given) of `type` (undefined: several types); undefined when not tracing. */
  send(type: string | undefined, count?: number): SendSpan | undefined;
  /** The span of one attempt of a claimed job, started now; undefined when not tracing. */
  process(job: ClaimedJob): ProcessSpan | undefined;
  /**
   * Whether process() would make spans now. The runner asks once per claim, not once per job, and
   * calls process() for that claim's jobs only when true (absent: always calls it).
   */
  processing?(): boolean;
  /**
   * The trace headers of the active span (W3C `traceparent`, `tracestate`, and whatever the app's
   * propagator adds), for messages a relay publishes; undefined outside a span or when not tracing.
   */
  headers(): Record<string, string> | undefined;
}
