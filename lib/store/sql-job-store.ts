/**
 * The shape the three SQL stores share, written once around each dialect's statements: the dedup
 * fallback after an insert, the two-statement dead-letter move and replay, the cron tick, stats,
 * dead-letter reads and deletes. Each dialect's store extends it with its own sql module; the
 * operator's side it extends in turn, with the statement primitives, is in sql-job-store.admin.ts.
 */
import type { DeadLetter, DeadLetterReason, InsertOptions, JobError, ListenerEvents, NewJob, QueueStats } from './job-store.interface';
import { LocalWakeUps } from './local-wake-ups';
import type { PrismaClientLike, TransactionClientLike } from './prisma-client.interface';
import { idsInOrder, missingDedupKeys, sortIds, toDate, toDeadLetter, toQueueStats, type Row } from './rows';
import { SqlAdminStore, type AdminStatements } from './sql-job-store.admin';

/** The statements of a dialect that the shared methods run (a dialect's sql module has them). */
export interface SharedStatements extends AdminStatements {
  insert: { existing: string };
  getDeadLetter: string;
  stats: { types: string; deadLetters: string };
  lastTick: { init: string; read: string };
}

/** A move between tables in two statements (copy, then remove), for dialects that cannot do it in one. */
export interface MoveStatements {
  copy: string;
  remove: string;
}

/** Inserts of one job whose dedup key was taken, each time by a job that left the queue before its id was read, before giving up. */
const DEDUP_ATTEMPTS = 5;

export abstract class SqlJobStore extends SqlAdminStore {
  protected constructor(
    prisma: PrismaClientLike,
    private readonly statements: SharedStatements,
  ) {
    super(prisma, statements);
  }

  abstract insert(tx: TransactionClientLike, jobs: NewJob[], options?: InsertOptions): Promise<string[]>;

  /** This process's runners, woken in-process after the commits this process makes (see LocalWakeUps). */
  protected readonly localWakeUps = new LocalWakeUps();

  /**
   * SQLite and MariaDB have no notifications: `wake` is called in-process after this process's
   * outbox.transaction commits (announce) and outbox.send; jobs committed elsewhere wait for the
   * poll. PostgreSQL's store overrides it with LISTEN/NOTIFY.
   */
  async listen(wake: () => void, _events?: ListenerEvents): Promise<() => Promise<void>> {
    const remove = this.localWakeUps.add(wake);
    return async () => remove();
  }

  /** After an outbox.transaction commit of jobs: wakes this process's runners (PostgreSQL's store also notifies the others). */
  announce(): void {
    this.localWakeUps.wake();
  }

  /**
   * The ids of an insert, in the order of `jobs` (see `idsInOrder`). A job whose dedup key the
   * insert skipped gets the id of the job holding it, found by a second statement only then.
   */
  protected async insertedIds(tx: TransactionClientLike, jobs: NewJob[], inserted: Row[]): Promise<string[]> {
    const missing = missingDedupKeys(jobs, inserted);
    if (missing.length === 0) return idsInOrder(jobs, inserted);
    // A new statement, so a new snapshot: it sees the job that held the key when the insert ran.
    const existing = await tx.$queryRawUnsafe<Row[]>(this.statements.insert.existing, JSON.stringify(missing));
    return idsInOrder(jobs, inserted, new Map(existing.map((row) => [row.dedup_key as string, String(row.id)])));
  }

  /**
   * The id of the job holding a dedup key, read by a new statement (a new snapshot: it sees the
   * job that held the key when the insert ran); undefined when that job has left the queue since.
   */
  protected async holderOf(tx: TransactionClientLike, dedupKey: string): Promise<string | undefined> {
    const rows = await tx.$queryRawUnsafe<Row[]>(this.statements.insert.existing, JSON.stringify([dedupKey]));
    return rows.length ? String(rows[0].id) : undefined;
  }

  /**
   * Runs an insert of one job until it has an id: a dedup key's holder may leave the queue (done)
   * between the insert that skipped the key and the read of its id; the insert then writes the job.
   */
  protected async untilWritten(write: () => Promise<string | undefined>): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      const id = await write();
      if (id !== undefined) return id;
      if (attempt === DEDUP_ATTEMPTS) throw new Error(`the job's dedup key was taken and freed again ${DEDUP_ATTEMPTS} times while it was being inserted`);
    }
  }

  /**
   * Dead-letters a job in one transaction: copy (message, stack, reason, id, token), then record the
   * failed attempt in its history (message, stack, id, token), then remove (id, token).
   */
  protected moveToDeadLetters(move: MoveStatements & { history: string }, id: string, token: string, error: JobError, reason: DeadLetterReason): Promise<boolean> {
    return this.transaction(async (tx) => {
      const moved = await tx.$executeRawUnsafe(move.copy, error.message, error.stack ?? null, reason, id, token);
      if (moved === 0) return false;
      await tx.$executeRawUnsafe(move.history, error.message, error.stack ?? null, id, token);
      await tx.$executeRawUnsafe(move.remove, id, token);
      return true;
    });
  }

  /**
   * Replays dead letters in one transaction: copy them to the queue (returning the new ids), move
   * their attempt history to the new jobs (the new ids), then remove them. With `select` (the
   * dead letters matching a filter, locked), the ids are found in the same transaction.
   */
  protected moveToQueue(move: MoveStatements & { history: string }, ids: string[] | ((tx: TransactionClientLike) => Promise<string[]>)): Promise<string[]> {
    return this.transaction(async (tx) => {
      const list = typeof ids === 'function' ? await ids(tx) : ids;
      if (list.length === 0) return [];
      const rows = await tx.$queryRawUnsafe<Row[]>(move.copy, JSON.stringify(list));
      const created = sortIds(rows);
      if (created.length) await tx.$executeRawUnsafe(move.history, JSON.stringify(created));
      await tx.$executeRawUnsafe(move.remove, JSON.stringify(list));
      return created;
    });
  }

  /** Deletes dead letters and their attempt history in one transaction (history, then the dead letters: ids as a JSON array); returns how many. */
  protected deleteWithHistory(remove: { history: string; remove: string }, ids: string[] | ((tx: TransactionClientLike) => Promise<string[]>)): Promise<number> {
    return this.transaction(async (tx) => {
      const list = typeof ids === 'function' ? await ids(tx) : ids;
      if (list.length === 0) return 0;
      await tx.$executeRawUnsafe(remove.history, JSON.stringify(list));
      return tx.$executeRawUnsafe(remove.remove, JSON.stringify(list));
    });
  }

  /** A cron tick in one transaction: `win` moves the type's last tick forward (false: taken), then the job is inserted. */
  protected claimTickWith(win: (tx: TransactionClientLike) => Promise<boolean>, job: NewJob): Promise<string | null> {
    return this.transaction(async (tx) => {
      if (!(await win(tx))) return null;
      const [id] = await this.insert(tx, [job]);
      return id;
    });
  }

  async getDeadLetter(id: string): Promise<DeadLetter | null> {
    const rows = await this.query(this.statements.getDeadLetter, id);
    return rows.length ? toDeadLetter(rows[0]) : null;
  }

  async stats(): Promise<QueueStats> {
    const types = await this.query(this.statements.stats.types);
    const deadLetters = await this.query(this.statements.stats.deadLetters);
    return toQueueStats(types, deadLetters);
  }

  async lastTick(type: string, init?: Date): Promise<Date | null> {
    if (init) await this.execute(this.statements.lastTick.init, type, this.time(init));
    const rows = await this.query(this.statements.lastTick.read, type);
    return rows.length ? toDate(rows[0].last_tick) : null;
  }
}
