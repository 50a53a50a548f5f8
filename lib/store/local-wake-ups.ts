import { AsyncResource } from 'node:async_hooks';

/**
 * The runners of this process that want to hear, in-process, of jobs this process has just
 * committed (outbox.transaction's commits, outbox.send): a runner claims at once rather than at
 * its next poll or notification. Each wake-up runs in the async context it was added in (the
 * runner's start), never in that of whoever commits: the claim it starts, and the handlers that
 * claim runs, must not inherit a request's AsyncLocalStorage (nestjs-cls, an ambient transaction,
 * a trace). One that throws disturbs neither the caller, whose commit is done, nor the others.
 */
export class LocalWakeUps {
  private readonly wakes = new Set<() => void>();

  /** Adds a wake-up; returns its removal. */
  add(wake: () => void): () => void {
    const bound = AsyncResource.bind(wake);
    this.wakes.add(bound);
    return () => void this.wakes.delete(bound);
  }

  /** Calls every wake-up. */
  wake(): void {
    for (const wake of this.wakes) {
      try {
        wake();
      } catch {
        // A wake-up only shortens the wait; polling stays the fallback.
      }
    }
  }

  clear(): void {
    this.wakes.clear();
  }
}
