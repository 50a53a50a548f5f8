import { LISTEN_LOST, LISTEN_OFF, LISTEN_RECONNECTED } from '../doctor-job.messages';
import type { JobStore } from '../store/job-store.interface';
import { toJobError } from './job-error';
import type { RunnerLog } from './outage-log';

/**
 * Wakes the claim loop when jobs are committed, where the store can tell (this process's own
 * commits on every SQL store; other instances' through PostgreSQL's LISTEN/NOTIFY). Polling goes
 * on regardless; this only shortens the wait.
 */
export class WakeUp {
  private stopListening?: () => Promise<void>;
  private listening = false;
  private down = false;

  constructor(
    private readonly store: JobStore,
    private readonly pollIntervalMs: number,
    private readonly logger: RunnerLog,
    private readonly wake: () => void,
  ) {}

  async start(): Promise<void> {
    if (!this.store.listen) return;
    this.listening = true;
    try {
      const stop = await this.store.listen(() => this.wake(), {
        connected: () => {
          if (this.down) this.logger.log(LISTEN_RECONNECTED);
          this.down = false;
        },
        lost: (error) => {
          if (this.down) return;
          this.down = true;
          this.logger.warn(LISTEN_LOST(toJobError(error).message, this.pollIntervalMs));
        },
      });
      if (this.listening) this.stopListening = stop;
      else await stop();
    } catch (error) {
      this.logger.warn(LISTEN_OFF(toJobError(error).message, this.pollIntervalMs));
    }
  }

  async stop(): Promise<void> {
    this.listening = false;
    const stop = this.stopListening;
    this.stopListening = undefined;
    await stop?.();
  }
}
