/**
 * Throw this from a handler when retrying cannot help (the data the job refers to is gone, the
 * request is invalid): the job goes to the dead letters at once instead of being retried.
 */
export class NonRetryableJobError extends Error {
  override readonly name: string = 'NonRetryableJobError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
