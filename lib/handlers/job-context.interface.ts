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
   * Aborted when the handler should stop: its `timeoutMs` passed (reason: a JobTimeoutError), the
   * shutdown timeout passed while it still ran (its job is released for another worker), or its
   * lease was lost to another worker. Pass it to fetch() and the like.
   */
  signal: AbortSignal;
  /**
   * For a handler with `transaction: true`: the Prisma transaction client its writes go through,
   * committed with the job's completion (undefined for other handlers). Type it with
   * `TransactionalJobContext<Prisma.TransactionClient>`.
   */
  readonly tx: any;
}

/** The context of a `transaction: true` handler, with `tx` typed as the app's Prisma transaction client. */
export interface TransactionalJobContext<Tx> extends JobContext {
  readonly tx: Tx;
}
