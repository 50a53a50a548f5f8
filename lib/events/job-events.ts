import { Injectable, Logger } from '@nestjs/common';
import { Observable } from 'rxjs';
import type { DeadLetterReason } from '../store/job-store.interface';

interface JobEventBase {
  id: string;
  type: string;
  /** The attempt the event is about, from 1. */
  attempt: number;
  maxAttempts: number;
}

/** A handler is about to run. */
export interface JobStartedEvent extends JobEventBase {
  name: 'job.started';
}

/** A handler returned and its job was deleted. */
export interface JobSucceededEvent extends JobEventBase {
  name: 'job.succeeded';
  durationMs: number;
}

/** A handler failed; the job will be retried after `nextAttemptInMs`. */
export interface JobFailedEvent extends JobEventBase {
  name: 'job.failed';
  durationMs: number;
  error: { message: string; stack?: string };
  nextAttemptInMs: number;
}

/** The job moved to the dead letters (out of attempts, non-retryable, invalid, or no handler). */
export interface JobDeadLetteredEvent extends JobEventBase {
  name: 'job.dead-lettered';
  /** Time in the handler, when the handler ran. */
  durationMs?: number;
  error: { message: string; stack?: string };
  /** Why: `failed`, `non-retryable`, `lease-expired`, `no-handler` or `invalid-payload` (the dead letter's `reason`). */
  reason: DeadLetterReason;
}

export type JobEvent = JobStartedEvent | JobSucceededEvent | JobFailedEvent | JobDeadLetteredEvent;
export type JobEventName = JobEvent['name'];
type Listener = (event: JobEvent) => void;

/**
 * The runner's lifecycle events, for metrics, tracing or alerts: inject it and `on(...)` or
 * subscribe to `events$`. Listeners run synchronously in the runner; one that throws is logged and
 * does not disturb the job.
 */
@Injectable()
export class JobEvents {
  private readonly logger = new Logger(JobEvents.name);
  private readonly listeners = new Set<{ name: JobEventName | '*'; listener: Listener }>();
  /** Listeners per event name ('*' counts for every name). */
  private readonly counts = new Map<JobEventName | '*', number>();

  /** Every event, as an Observable. */
  readonly events$ = new Observable<JobEvent>((subscriber) => this.on('*', (event) => subscriber.next(event)));

  /** Calls `listener` for each event of that name (or every event with '*'); returns the unsubscribe. */
  on<N extends JobEventName>(name: N, listener: (event: Extract<JobEvent, { name: N }>) => void): () => void;
  on(name: '*', listener: Listener): () => void;
  on(name: JobEventName | '*', listener: Listener): () => void {
    const entry = { name, listener };
    this.listeners.add(entry);
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    return () => {
      if (this.listeners.delete(entry)) this.counts.set(name, this.counts.get(name)! - 1);
    };
  }

  /** @internal whether an event of that name has any listener (the runner skips building it otherwise) */
  has(name: JobEventName): boolean {
    return (this.counts.get(name) ?? 0) > 0 || (this.counts.get('*') ?? 0) > 0;
  }

  /** @internal the runner's side */
  emit(event: JobEvent): void {
    for (const { name, listener } of this.listeners) {
      if (name !== '*' && name !== event.name) continue;
      try {
        listener(event);
      } catch (error) {
        this.logger.error(`A ${event.name} listener threw: ${(error as Error)?.message ?? String(error)}`);
      }
    }
  }
}
