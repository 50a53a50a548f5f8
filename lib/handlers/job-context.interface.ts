/** What a handler is told about the job it runs, as its second argument. */
export interface JobContext {
  id: string;
  type: string;
  /** This attempt's number, from 1. */
  attempt: number;
  maxAttempts: number;
  /** When the job was enqueued (database clock). */
  createdAt: Date;
  /**
   * Aborted when the app shuts down and the shutdown timeout has passed while the handler still
   * runs; its job is then released for another worker. Pass it to fetch() and the like.
   */
  signal: AbortSignal;
}
