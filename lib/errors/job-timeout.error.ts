/** The reason a handler's `signal` is aborted, and its attempt failed, when its `timeoutMs` passes. */
export class JobTimeoutError extends Error {
  override readonly name = 'JobTimeoutError';
}
