import { randomUUID } from 'node:crypto';
import type { ClaimedJob } from '../store/job-store.interface';
import { claimLanes } from './runner-tuning';
import type { Slots } from './slots';

export interface ClaimLoopCallbacks {
  /** Claims up to `limit` jobs under `token`; undefined when the database failed (already logged). */
  claim(limit: number, token: string): Promise<ClaimedJob[] | undefined>;
  /** Runs a claimed job; `sentAt` is the clock reading when its claim was sent. */
  run(job: ClaimedJob, token: string, sentAt: number): void;
  /** Gives jobs back to the queue without consuming their attempt. */
  release(ids: string[], token: string): Promise<unknown>;
  /** A claim came back empty. */
  claimedNothing(): void;
}

/**
 * The producer: claims due jobs while claims bring jobs and slots are free. One loop per
 * instance (poll() joins the loop under way), with up to two claims in flight ("lanes") when
 * `concurrency` has room for two whole batches: the database then works on both at once.
 */
export class ClaimLoop {
  private active = false;
  private loop: Promise<void> | null = null;
  private readonly lanes = new Set<Promise<void>>();
  /** A wake-up came while the loop ran: look again before it ends. */
  private pollAgain = false;
  /** The last claim brought jobs, so more may be due: claim again when a slot frees. */
  private moreDue = false;

  constructor(
    private readonly settings: { concurrency: number; batchSize: number },
    private readonly slots: Slots,
    private readonly callbacks: ClaimLoopCallbacks,
    private readonly now: () => number,
    /** A new claim token (by default a random UUID; the runner's name their instance and time, see claim-token.ts). */
    private readonly newToken: () => string = randomUUID,
  ) {}

  start(): void {
    this.active = true;
  }

  /** Stops claiming; resolves when the claims under way are done (their jobs handed back). */
  async stop(): Promise<void> {
    this.active = false;
    await this.loop;
  }

  /** Runs the claim loop now; joins the loop already under way. */
  poll(): Promise<void> {
    if (!this.active) return Promise.resolve();
    if (this.loop) {
      this.pollAgain = true;
      // Slots freed while a claim is in flight: claim alongside it, when `concurrency` allows two.
      const { concurrency, batchSize } = this.settings;
      if (this.lanes.size < claimLanes(concurrency, batchSize) && this.slots.free >= batchSize) this.openLane();
      return this.loop;
    }
    this.loop = this.run().finally(() => {
      this.loop = null;
      // A wake-up that came after the loop's last look at pollAgain, but before it ended.
      if (this.pollAgain && this.active) void this.poll();
    });
    return this.loop;
  }

  /** A handler returned: claim again if the last claim suggested more jobs are due. */
  slotFreed(): void {
    if (this.moreDue && this.active) void this.poll();
  }

  private async run(): Promise<void> {
    do {
      this.pollAgain = false;
      this.openLane();
      while (this.lanes.size > 0) await Promise.all([...this.lanes]);
    } while (this.pollAgain && this.active);
  }

  private openLane(): void {
    const lane: Promise<void> = this.lane().finally(() => this.lanes.delete(lane));
    this.lanes.add(lane);
  }

  /** Claims one batch after another until a claim comes back empty or the slots are full. */
  private async lane(): Promise<void> {
    while (this.active) {
      const free = this.slots.free;
      if (free <= 0) return;
      const wanted = Math.min(this.settings.batchSize, free);
      const token = this.newToken();
      this.slots.reserve(wanted);
      const sentAt = this.now();
      let jobs: ClaimedJob[] | undefined;
      try {
        jobs = await this.callbacks.claim(wanted, token);
      } finally {
        this.slots.unreserve(wanted);
      }
      if (!jobs) return;
      // Claim again until a claim comes back empty: a short claim does not mean the queue is
      // empty (SKIP LOCKED passes over rows that other claims or deletes hold at that moment).
      this.moreDue = jobs.length > 0;
      if (jobs.length === 0) this.callbacks.claimedNothing();
      if (!this.active) {
        // stop() came while the claim was in flight: give the jobs straight back.
        if (jobs.length) await this.callbacks.release(jobs.map((j) => j.id), token);
        return;
      }
      const excess = this.runClaimed(jobs, token, sentAt);
      // A claim can bring more jobs of a type than its handler's concurrency allows: give them back.
      if (excess.length) await this.callbacks.release(excess, token);
      if (!this.moreDue) return;
    }
  }

  /**
   * Starts the claimed jobs there is room for; returns the ids of the others. (Not a loop in
   * lane(): V8 would compile all of lane, an async function, on the stack and again later.)
   */
  private runClaimed(jobs: ClaimedJob[], token: string, sentAt: number): string[] {
    const excess: string[] = [];
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[i];
      if (this.slots.hasRoomFor(job.type)) this.callbacks.run(job, token, sentAt);
      else excess.push(job.id);
    }
    return excess;
  }
}
