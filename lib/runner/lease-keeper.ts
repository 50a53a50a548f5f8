import { LEASE_LOST } from '../doctor-job.messages';
import type { JobStore } from '../store/job-store.interface';
import type { OutageLog, RunnerLog } from './outage-log';
import { byToken, type RunningJob } from './running-job';
import { heartbeatIntervalMs } from './runner-tuning';

/**
 * The heartbeat: pushes the lease of every running job forward, so a long handler is not claimed
 * by another worker. A job whose claim no longer holds (its lease ran out while this process
 * stalled, and another worker took it) is relinquished and its handler aborted.
 */
export class LeaseKeeper {
  private timer?: NodeJS.Timeout;
  private busy = false;

  constructor(
    private readonly store: JobStore,
    private readonly leaseMs: number,
    private readonly running: () => RunningJob[],
    private readonly outage: OutageLog,
    private readonly logger: RunnerLog,
    private readonly now: () => number,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.beat(), heartbeatIntervalMs(this.leaseMs));
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One heartbeat (the interval calls it; tests may too). Skipped while the previous one runs. */
  async beat(): Promise<void> {
    const running = this.running();
    if (this.busy || running.length === 0) return;
    this.busy = true;
    try {
      for (const [token, entries] of byToken(running.filter((e) => !e.relinquished))) {
        const sent = this.now();
        const ids = await this.outage.run('extend leases', () => this.store.extend(entries.map((e) => e.job.id), token, this.leaseMs));
        if (!ids) return;
        const held = new Set(ids);
        const stillRunning = new Set(this.running());
        for (const entry of entries) {
          if (held.has(entry.job.id)) {
            entry.leaseFrom = sent;
            continue;
          }
          if (!stillRunning.has(entry)) continue; // finished meanwhile
          entry.relinquished = true;
          entry.abort(new Error(LEASE_LOST(entry.job.id)));
          this.logger.warn(LEASE_LOST(entry.job.id));
        }
      }
    } finally {
      this.busy = false;
    }
  }
}
