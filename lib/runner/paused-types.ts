import type { JobStore } from '../store/job-store.interface';

/**
 * The job types paused for every instance (`doctor_job_paused_type`), which claims leave out. Read
 * at most once per `maxAgeMs` (the poll interval): a claim sent `maxAgeMs` after a pause committed
 * uses a read that started after it, so no runner claims a paused type later than one poll
 * interval after the pause. Between reads the last list is used as it is (no promise, no query).
 */
export class PausedTypes {
  private types: string[] = [];
  private readAt = -Infinity;
  private reading?: Promise<string[]>;

  constructor(
    private readonly store: Pick<JobStore, 'listPausedTypes'>,
    private readonly maxAgeMs: number,
    private readonly now: () => number,
  ) {}

  /** The paused types: the last list while it is fresh, else a read (whose failure fails the claim that asked). */
  current(): string[] | Promise<string[]> {
    if (this.now() - this.readAt < this.maxAgeMs) return this.types;
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async read(): Promise<string[]> {
    const startedAt = this.now();
    const rows = await this.store.listPausedTypes();
    this.types = rows.map((row) => row.type);
    this.readAt = startedAt;
    return this.types;
  }
}

/** The types a claim leaves out: those at their handler's concurrency, and the paused ones. */
export function excluded(saturated: string[], paused: string[]): string[] {
  return paused.length === 0 ? saturated : [...new Set([...saturated, ...paused])];
}
