/**
 * How PostgreSQL's runners hear of jobs committed by outbox.transaction: a NOTIFY sent after the
 * commit, through the runner's connections, rather than pg_notify inside the app's transaction
 * (whose commit would then queue behind every other notifying commit of the cluster).
 *
 * A NOTIFY is a transaction of its own with a commit record, and it was most of what an
 * enqueue added to a business transaction beyond its INSERT (bench/enqueue-overhead.js). So the
 * announcer spaces them: the first commit after a quiet spell is announced at once; commits that
 * follow within `spacingMs` of a NOTIFY share one more, sent when the spacing has passed. A
 * runner that is already claiming looks again anyway; an idle one in another instance hears of
 * the jobs at most `spacingMs` late. Runners in this process are woken directly, at once, by the
 * store (local-wake-ups.ts), and need no NOTIFY to reach them.
 */

/** The clock and timer the announcer uses (a test passes its own). */
export interface AnnouncerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const SYSTEM_CLOCK: AnnouncerClock = {
  now: () => performance.now(),
  // Not unref'd: a process that exits on its own right after a commit still sends the NOTIFY owed (at most 5 ms later).
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The least time between two NOTIFYs of one announcer, in ms. */
export const ANNOUNCE_SPACING_MS = 5;

export class Announcer {
  /** Idle, waiting for the spacing to pass with a NOTIFY owed, a NOTIFY in flight, or one in flight and another owed. */
  private state: 'idle' | 'waiting' | 'sending' | 'again' = 'idle';
  private sending?: Promise<void>;
  private timer?: unknown;
  private closed = false;
  /** When the last NOTIFY was started (clock ms); -Infinity before the first. */
  private lastSent = -Infinity;

  /**
   * @param notify sends one NOTIFY
   * @param spacingMs the least time between the starts of two NOTIFYs
   */
  constructor(
    private readonly notify: () => Promise<unknown>,
    private readonly spacingMs = ANNOUNCE_SPACING_MS,
    private readonly clock: AnnouncerClock = SYSTEM_CLOCK,
  ) {}

  announce(): void {
    // After close() a NOTIFY would open the pool again: the other instances poll instead.
    if (!this.closed) this.owe();
  }

  /** Sends the NOTIFY owed, if any, at once; sends nothing after; resolves when the last one is done. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.state === 'waiting') {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
      this.start();
    }
    while (this.sending) await this.sending;
  }

  /** A NOTIFY is owed: sent now, or once the spacing since the last one has passed, or after the one in flight. */
  private owe(): void {
    if (this.state === 'sending') this.state = 'again';
    if (this.state !== 'idle') return;
    const wait = this.lastSent + this.spacingMs - this.clock.now();
    if (wait <= 0 || this.closed) return this.start();
    this.state = 'waiting';
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.state === 'waiting') this.start();
    }, wait);
  }

  private start(): void {
    this.state = 'sending';
    this.sending = this.send();
  }

  private async send(): Promise<void> {
    this.lastSent = this.clock.now();
    try {
      await this.notify();
    } catch {
      // The database is unreachable or the pool is closed: polling picks the jobs up.
    }
    const owed = this.state === 'again';
    this.state = 'idle';
    this.sending = undefined;
    // Commits that came while this NOTIFY was in flight (or close() since: then at once).
    if (owed) this.owe();
  }
}
