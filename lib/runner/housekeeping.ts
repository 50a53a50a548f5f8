import type { JobStore } from '../store/job-store.interface';
import { HISTORY_PRUNE_BATCH, HISTORY_PRUNE_MAX_BATCHES, HOUSEKEEPING_INTERVAL_MS, INSTANCE_FORGOTTEN_AFTER_MS } from './runner-tuning';

/**
 * The runner's chores, off the hot path, each a statement or a few every HOUSEKEEPING_INTERVAL_MS:
 * - registers this instance (its key and name, so the jobs its claim tokens hold name it), at
 *   start and again each round (seen now), and forgets instances not seen for a day;
 * - deletes the attempt history of jobs that succeeded after failed attempts: a success deletes
 *   only the job (the success path writes nothing more), so their history rows are left without a
 *   job or a dead letter.
 * Failures are left for the next round (the claims log an outage of the database).
 */
export class Housekeeping {
  private lastAt = -Infinity;
  private running = false;

  constructor(
    private readonly store: Pick<JobStore, 'registerInstance' | 'pruneInstances' | 'pruneAttempts'>,
    private readonly instance: { key: string; name: string },
    private readonly now: () => number,
  ) {}

  /** Called at start and at each poll: a round when the interval has passed since the last one. */
  tick(): void {
    if (this.running || this.now() - this.lastAt < HOUSEKEEPING_INTERVAL_MS) return;
    const first = this.lastAt === -Infinity;
    this.lastAt = this.now();
    this.running = true;
    void this.round(first).finally(() => (this.running = false));
  }

  private async round(first: boolean): Promise<void> {
    try {
      await this.store.registerInstance(this.instance.key, this.instance.name);
      if (first) return; // the first round only registers: pruning waits one interval
      await this.store.pruneInstances(INSTANCE_FORGOTTEN_AFTER_MS);
      for (let batch = 0; batch < HISTORY_PRUNE_MAX_BATCHES; batch++) {
        if ((await this.store.pruneAttempts(HISTORY_PRUNE_BATCH)) < HISTORY_PRUNE_BATCH) return;
      }
    } catch {
      // The database is unreachable (the claims log that) or busy: the next round catches up.
    }
  }
}
