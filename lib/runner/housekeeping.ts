import { INDEX_REBUILDS_OFF, type IndexUpkeep, type JobStore } from '../store/job-store.interface';
import type { RunnerLog } from './outage-log';
import { HISTORY_PRUNE_BATCH, HISTORY_PRUNE_MAX_BATCHES, HOUSEKEEPING_INTERVAL_MS, INSTANCE_FORGOTTEN_AFTER_MS } from './runner-tuning';

/**
 * The runner's chores, off the hot path, each a statement or a few every HOUSEKEEPING_INTERVAL_MS:
 * - registers this instance (its key and name, so the jobs its claim tokens hold name it), at
 *   start and again each round (seen now), and forgets instances not seen for a day;
 * - deletes the attempt history of jobs that succeeded after failed attempts: a success deletes
 *   only the job (the success path writes nothing more), so their history rows are left without a
 *   job or a dead letter.
 * Failures are left for the next round (the claims log an outage of the database).
 * And at every tick it asks the store to rebuild bloated indexes (PostgreSQL; the store looks at
 * most once per its own interval, see postgresql.reindex.ts), and logs what that did.
 */
export class Housekeeping {
  private lastAt = -Infinity;
  private running = false;
  private lookingAtIndexes = false;
  /** The last reason the index rebuilds gave for not looking that was worth a warning (logged once). */
  private warned?: string;

  constructor(
    private readonly store: Pick<JobStore, 'registerInstance' | 'pruneInstances' | 'pruneAttempts' | 'rebuildBloatedIndexes'>,
    private readonly instance: { key: string; name: string },
    private readonly now: () => number,
    private readonly logger: RunnerLog,
  ) {}

  /** Called at start and at each poll: a round when the interval has passed since the last one. */
  tick(): void {
    this.lookAtIndexes();
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

  private lookAtIndexes(): void {
    if (this.lookingAtIndexes || !this.store.rebuildBloatedIndexes) return;
    this.lookingAtIndexes = true;
    void this.store
      .rebuildBloatedIndexes()
      .then((upkeep) => this.report(upkeep), () => undefined) // unreachable database: the claims log that
      .finally(() => (this.lookingAtIndexes = false));
  }

  private report({ rebuilt, skipped }: IndexUpkeep): void {
    for (const { index, bytesBefore, bytesAfter, ms, error } of rebuilt) {
      if (error) this.logger.warn(`Rebuilding the bloated index ${index} (${megabytes(bytesBefore)}) failed: ${error}. It is left as it was; the next look tries again.`);
      else this.logger.log(`Rebuilt the bloated index ${index}: ${megabytes(bytesBefore)} -> ${megabytes(bytesAfter)} in ${ms} ms (REINDEX INDEX CONCURRENTLY).`);
    }
    if (skipped?.startsWith(INDEX_REBUILDS_OFF) && skipped !== this.warned) {
      this.warned = skipped;
      this.logger.warn(`${skipped.charAt(0).toUpperCase()}${skipped.slice(1)}.`);
    }
  }
}

const megabytes = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;
