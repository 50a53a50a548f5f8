/**
 * The shape the three SQL stores share, written once around each dialect's statements: the dedup
 * fallback after an insert, the two-statement dead-letter move and replay, the cron tick, stats,
 * dead-letter reads and deletes. Each dialect's store extends it with its own sql module.
 */
import type { DeadLetter, InsertOptions, JobError, NewJob, QueueStats } from './job-store.interface';
import type { PrismaClientLike, TransactionClientLike } from './prisma-client.interface';
import { idsInOrder, missingDedupKeys, sortIds, toDate, toDeadLetter, toQueueStats, type Row } from './rows';

/** The statements of a dialect that the shared methods run (a dialect's sql module has them). */
export interface SharedStatements {
  insert: { existing: string };
  getDeadLetter: string;
  deleteDeadLetters: string;
  stats: { types: string; deadLetters: string };
  lastTick: { init: string; read: string };
}

/** A move between tables in two statements (copy, then remove), for dialects that cannot do it in one. */
export interface MoveStatements {
  copy: string;
  remove: string;
}

/** The store's own transactions wait up to 30 s for the app's (which may hold SQLite's only connection, or MariaDB's rows) rather than fail. */
export const TRANSACTION_WAIT = { maxWait: 30_000, timeout: 30_000 };

export abstract class SqlJobStore {
  protected constructor(
    protected readonly prisma: PrismaClientLike,
    private readonly statements: SharedStatements,
  ) {}

  abstract insert(tx: TransactionClientLike, jobs: NewJob[], options?: InsertOptions): Promise<string[]>;

  /** A statement on the root client, outside any transaction of the app's (SQLite: in one of its own). */
  protected query(sql: string, ...params: unknown[]): Promise<Row[]> {
    return Promise.resolve(this.prisma.$queryRawUnsafe<Row[]>(sql, ...params));
  }

  protected execute(sql: string, ...params: unknown[]): Promise<number> {
    return Promise.resolve(this.prisma.$executeRawUnsafe(sql, ...params));
  }

  /** A transaction of the store's own. */
  protected transaction<T>(fn: (tx: TransactionClientLike) => PromiseLike<T>): Promise<T> {
    return Promise.resolve(this.prisma.$transaction(fn, TRANSACTION_WAIT));
  }

  /** A time as the dialect's statements take it (ISO-8601 text in UTC unless overridden). */
  protected time(date: Date): string {
    return date.toISOString();
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

  /** Dead-letters a job in one transaction: copy (message, stack, id, token), then remove (id, token). */
  protected moveToDeadLetters(move: MoveStatements, id: string, token: string, error: JobError): Promise<boolean> {
    return this.transaction(async (tx) => {
      const moved = await tx.$executeRawUnsafe(move.copy, error.message, error.stack ?? null, id, token);
      if (moved === 0) return false;
      await tx.$executeRawUnsafe(move.remove, id, token);
      return true;
    });
  }

  /** Replays dead letters in one transaction: copy them to the queue (returning the new ids), then remove them. */
  protected moveToQueue(move: MoveStatements, ids: string[]): Promise<string[]> {
    return this.transaction(async (tx) => {
      const rows = await tx.$queryRawUnsafe<Row[]>(move.copy, JSON.stringify(ids));
      await tx.$executeRawUnsafe(move.remove, JSON.stringify(ids));
      return sortIds(rows);
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

  async deleteDeadLetters(ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.execute(this.statements.deleteDeadLetters, JSON.stringify(ids));
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
