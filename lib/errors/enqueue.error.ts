/**
 * An enqueue call was refused before anything was written: unknown job type, a payload that
 * fails its DTO or is not JSON, bad options, or a client that is not a transaction client.
 */
export class EnqueueError extends Error {
  override readonly name = 'EnqueueError';
  constructor(
    message: string,
    /** The job type of the refused call. */
    readonly jobType: string,
    /** One line per problem (class-validator messages, JSON paths, option names). */
    readonly problems: string[] = [],
  ) {
    super(message);
  }
}
