import { DATABASE_ANSWERS_AGAIN, DATABASE_FAILED } from '../doctor-job.messages';
import { toJobError } from './job-error';
import { outageQuietMs } from './runner-tuning';

export interface RunnerLog {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * Logs a database outage once, not once per poll or per failed query (the poll interval keeps
 * retrying), and its end once the database has answered for a while without failing.
 */
export class OutageLog {
  private outage = false;
  private lastFailureAt = 0;

  constructor(
    private readonly pollIntervalMs: number,
    private readonly logger: RunnerLog,
    /** Monotonic ms (performance.now in the app; a manual clock in tests). */
    private readonly now: () => number,
  ) {}

  /** The database answered a statement. */
  answered(): void {
    if (!this.outage || this.now() - this.lastFailureAt < outageQuietMs(this.pollIntervalMs)) return;
    this.outage = false;
    this.logger.log(DATABASE_ANSWERS_AGAIN);
  }

  /** A statement failed; `what` completes "Could not …". */
  failed(what: string, error: unknown): void {
    this.lastFailureAt = this.now();
    if (this.outage) return;
    this.outage = true;
    this.logger.error(DATABASE_FAILED(what, toJobError(error).message.trim().split('\n').pop() ?? '', this.pollIntervalMs));
  }

  /** Runs a statement, reporting its outcome; undefined when it failed. */
  async run<T>(what: string, statement: () => Promise<T>): Promise<T | undefined> {
    let result: T;
    try {
      result = await statement();
    } catch (error) {
      this.failed(what, error);
      return undefined;
    }
    this.answered();
    return result;
  }
}
