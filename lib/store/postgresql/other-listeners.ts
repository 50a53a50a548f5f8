/**
 * Whether any other instance listens for wake-ups on this database, so that an instance alone
 * (one app process whose runner is woken in-process, the common deployment) sends no NOTIFY
 * at all: each is a commit with a flush on the database, and most of what an enqueue in an
 * outbox.transaction cost beyond its INSERT (bench/enqueue-overhead.ts).
 *
 * The listeners are the database's sessions named `doctor-job-listener` (pg_stat_activity shows
 * every session's name and database to every role), but this process's own. A NOTIFY is skipped
 * only on an answer from a look that started less than RECHECK_MS ago; a look is made when an
 * announce finds the answer older (never more often, never while idle). So a listener that has
 * just connected misses only commits of its first RECHECK_MS: it claims once more
 * CATCH_UP_AFTER_MS after connecting (postgresql.connections.ts), which finds them.
 */
import { performance } from 'node:perf_hooks';

/** How long a look's answer "no other listener" is trusted, from the look's start (ms). */
export const RECHECK_MS = 1_000;
/** When a new listener claims again, after its connection is made (ms): RECHECK_MS and a margin. */
export const CATCH_UP_AFTER_MS = 2 * RECHECK_MS;

export class OtherListeners {
  /** The answer of the last look that ended, and when that look started; none yet: -Infinity. */
  private alone = false;
  private lookedAt = -Infinity;
  private looking = false;

  /**
   * @param look resolves to whether another instance's listener is connected (a failed look counts as yes)
   */
  constructor(
    private readonly look: () => Promise<boolean>,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Whether a NOTIFY may reach another instance: yes unless a recent look found none. */
  present(): boolean {
    const age = this.now() - this.lookedAt;
    if (age < RECHECK_MS) return !this.alone;
    if (!this.looking) void this.lookAgain();
    return true;
  }

  private async lookAgain(): Promise<void> {
    this.looking = true;
    const started = this.now();
    let present = true;
    try {
      present = await this.look();
    } catch {
      // The database is unreachable, or the view is not readable: notify, as without this.
    }
    this.alone = !present;
    this.lookedAt = started;
    this.looking = false;
  }
}
