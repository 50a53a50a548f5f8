import { CLAIM_LOST, CLAIMS_UNKNOWN, JOBS_GONE } from '../doctor-job.messages';
import type { JobEvents } from '../events/job-events';
import { emptyList } from '../util/lists';
import type { JobStore } from '../store/job-store.interface';
import type { OutageLog, RunnerLog } from './outage-log';
import type { RunningJob } from './running-job';
import { COUNT_ONLY_DELETE_LEASE_SHARE } from './runner-tuning';

export interface CompletionCallbacks {
  /** The claim's success is settled (or given up). */
  closed(entry: RunningJob): void;
  /** Claim again: a claim came back empty while a delete held rows it may have skipped. */
  claimAgain(): void;
}

/**
 * The completer: settles successes in batches. Every handler that succeeds in the same turn of
 * the event loop is deleted by one statement, fenced by the claim tokens.
 */
export class CompletionBatcher {
  /** Successes waiting for the next delete (emptyList: an empty literal would change its elements kind on the first push, each batch). */
  private pending: RunningJob[] = emptyList();
  private deletesInFlight = 0;
  private emptyClaimDuringDelete = false;

  constructor(
    private readonly store: JobStore,
    private readonly leaseMs: number,
    private readonly events: JobEvents,
    private readonly outage: OutageLog,
    private readonly logger: RunnerLog,
    private readonly callbacks: CompletionCallbacks,
    /** The clock RunningJob.leaseFrom was read from. */
    private readonly now: () => number,
  ) {}

  /** Queues a success for the next batched delete. */
  add(entry: RunningJob): void {
    this.pending.push(entry);
    if (this.pending.length === 1) setImmediate(() => void this.flush());
  }

  /**
   * A claim came back empty. If it overlapped a batched delete it may have skipped rows the delete
   * held locked (with InnoDB, possibly due ones): claim once more when the deletes are done.
   */
  claimedNothing(): void {
    if (this.deletesInFlight > 0) this.emptyClaimDuringDelete = true;
  }

  /** Sends the batch queued so far (called on the next turn of the event loop after add()). */
  async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = emptyList();
    if (batch.length === 0) return;
    const { store } = this;
    // While every lease in the batch is young, no other claim can hold these jobs: the store may
    // delete them without reporting claim by claim, which costs the database much less. (This
    // trusts the database's clock not to jump by half a lease; the claim tokens still fence the
    // delete whatever happens, only the reporting would be off.)
    const countOnly = store.completeUnderLease !== undefined && this.leasesYoungerThan(batch, this.leaseMs * COUNT_ONLY_DELETE_LEASE_SHARE);
    let lost: Set<string> | undefined;
    let deleted = 0;
    this.deletesInFlight++;
    try {
      if (countOnly) deleted = await store.completeUnderLease!(batch);
      else lost = await store.complete(batch);
      this.outage.answered();
    } catch (error) {
      // Not deleted: each job runs again once its lease ends (at-least-once).
      this.outage.failed(`complete ${batch.length === 1 ? `job ${batch[0].job.id}` : `${batch.length} jobs`}`, error);
      for (const entry of batch) this.callbacks.closed(entry);
      return;
    } finally {
      if (--this.deletesInFlight === 0 && this.emptyClaimDuringDelete) {
        this.emptyClaimDuringDelete = false;
        this.callbacks.claimAgain();
      }
    }
    let announce = this.events.has('job.succeeded');
    if (!lost && deleted < batch.length) {
      if (this.leasesYoungerThan(batch, this.leaseMs)) {
        // The delete ran while every lease was live: the missing jobs were deleted by someone
        // else, and each handler still ran its job alone.
        this.logger.warn(JOBS_GONE(batch.length - deleted, batch.length));
      } else {
        // The delete returned after some leases could have run out: which claims held is unknown.
        this.logger.warn(CLAIMS_UNKNOWN(batch.length - deleted, batch.length, this.leaseMs));
        announce = false;
      }
    }
    this.close(batch, lost, announce);
  }

  /**
   * The batch's claims are closed, each success announced unless its claim was lost. (A method of
   * its own, with an indexed loop: this loop in flush() had V8 compile all of flush, an async
   * function with the store call inlined, on the stack and again later.)
   */
  private close(batch: RunningJob[], lost: Set<string> | undefined, announce: boolean): void {
    for (let i = 0; i < batch.length; i++) {
      const entry = batch[i];
      const { job } = entry;
      if (lost && lost.size > 0 && lost.has(entry.key)) {
        if (!entry.relinquished) this.logger.warn(CLAIM_LOST(job.id, job.type, 'complete', this.leaseMs));
      } else if (announce) {
        this.events.emit({ name: 'job.succeeded', id: job.id, type: job.type, attempt: job.attempt, maxAttempts: job.maxAttempts, durationMs: entry.durationMs });
      }
      this.callbacks.closed(entry);
    }
  }

  /** Whether every entry's lease started less than `ms` ago. */
  private leasesYoungerThan(entries: RunningJob[], ms: number): boolean {
    const oldest = this.now() - ms;
    for (let i = 0; i < entries.length; i++) if (entries[i].leaseFrom <= oldest) return false;
    return true;
  }
}
