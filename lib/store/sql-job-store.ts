/**
 * The shape the three SQL stores share, written once around each dialect's statements: the dedup
 * fallback after an insert, the two-statement dead-letter move and replay, the cron tick, stats,
 * dead-letter reads and deletes. Each dialect's store extends it with its own sql module.
 */
import type {
  DeadLetter,
  DeadLetterReason,
  HorizonHolder,
  InsertOptions,
  JobActionResult,
  JobAttempt,
  JobError,
  NewJob,
  PausedType,
  QueuedJobWithPayload,
  QueueStats,
} from './job-store.interface';
import type { PrismaClientLike, TransactionClientLike } from './prisma-client.interface';
import { classifyJobs, idsInOrder, isTrue, missingDedupKeys, sortIds, toAttempt, toDate, toDeadLetter, toPausedType, toQueuedJobWithPayload, toQueueStats, type Row } from './rows';

/** The statements of a dialect that the shared methods run (a dialect's sql module has them). */
export interface SharedStatements {
  insert: { existing: string };
  getDeadLetter: string;
  stats: { types: string; deadLetters: string };
  lastTick: { init: string; read: string };
  getJob: string;
  listAttempts: string;
  pauseType: string;
  resumeType: string;
  listPausedTypes: string;
  pruneAttempts: string;
  registerInstance: string;
  pruneInstances: string;
}

/** The statements of an all-or-nothing action on queued jobs: lock the rows (ids as a JSON array), then find those that exist. */
export interface QueuedJobsLock {
  lock: string;
  existing: string;
}

/** A move between tables in two statements (copy, then remove), for dialects that cannot do it in one. */
export interface MoveStatements {
  copy: string;
  remove: string;
}

/** The store's own transactions wait up to 30 s for the app's (which may hold SQLite's only connection, or MariaDB's rows) rather than fail. */
export const TRANSACTION_WAIT = { maxWait: 30_000, timeout: 30_000 };

/** Inserts of one job whose dedup key was taken, each time by a job that left the queue before its id was read, before giving up. */
const DEDUP_ATTEMPTS = 5;

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

  /**
   * An all-or-nothing action on queued jobs, in one transaction: locks the rows, and acts on them
   * (`act`, given the locked rows) only when every id is in the queue and none is running.
   */
  protected actOnQueued(
    statements: QueuedJobsLock,
    ids: string[],
    act: (tx: TransactionClientLike, rows: Row[]) => Promise<Pick<JobActionResult, 'done' | 'unchanged'>>,
  ): Promise<JobActionResult> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return Promise.resolve({ done: [], unchanged: [], running: [], missing: [] });
    return this.transaction(async (tx) => {
      const list = JSON.stringify(unique);
      const locked = await tx.$queryRawUnsafe<Row[]>(statements.lock, list);
      const existing = locked.length === unique.length ? locked : await tx.$queryRawUnsafe<Row[]>(statements.existing, list);
      const { running, missing, found } = classifyJobs(unique, locked, existing);
      if (running.length || missing.length) return { done: [], unchanged: [], running, missing };
      return { ...(await act(tx, found)), running: [], missing: [] };
    });
  }

  /**
   * runJobsNow on the locked rows: the scheduled ones are made due by `update` (a statement taking the
   * ids as a JSON array, or a function given them); the due ones are left as they are.
   */
  protected async makeDue(
    tx: TransactionClientLike,
    rows: Row[],
    update: string | ((ids: string[]) => PromiseLike<unknown>),
  ): Promise<Pick<JobActionResult, 'done' | 'unchanged'>> {
    const scheduled = rows.filter((row) => !isTrue(row.due)).map((row) => String(row.id));
    const unchanged = rows.filter((row) => isTrue(row.due)).map((row) => String(row.id));
    if (scheduled.length) await (typeof update === 'string' ? tx.$executeRawUnsafe(update, JSON.stringify(scheduled)) : update(scheduled));
    return { done: sortIds(scheduled.map((id) => ({ id }))), unchanged: sortIds(unchanged.map((id) => ({ id }))) };
  }

  /** Runs one figure's statement of a diagnosis: its rows, or none and a note of why. */
  protected async figure(what: string, unavailable: string[], sql: string): Promise<Row[] | undefined> {
    try {
      return await this.query(sql);
    } catch (error) {
      unavailable.push(`${what}: ${String((error as Error)?.message ?? error).trim().split('\n').pop()}`);
      return undefined;
    }
  }

  /** The oldest of the horizon holders found (by transactions since their xmin, else by age). */
  protected oldestHolder(holders: (HorizonHolder | undefined)[]): HorizonHolder | null {
    const found = holders.filter((h): h is HorizonHolder => h !== undefined);
    found.sort((a, b) => (b.xminAge ?? -1) - (a.xminAge ?? -1) || (b.ageMs ?? -1) - (a.ageMs ?? -1));
    return found[0] ?? null;
  }

  async getJob(id: string): Promise<QueuedJobWithPayload | null> {
    const rows = await this.query(this.statements.getJob, id);
    return rows.length ? toQueuedJobWithPayload(rows[0]) : null;
  }

  async listAttempts(jobId: string): Promise<JobAttempt[]> {
    return (await this.query(this.statements.listAttempts, jobId)).map(toAttempt);
  }

  async pauseType(type: string): Promise<boolean> {
    return (await this.execute(this.statements.pauseType, type)) > 0;
  }

  async resumeType(type: string): Promise<boolean> {
    return (await this.execute(this.statements.resumeType, type)) > 0;
  }

  async listPausedTypes(): Promise<PausedType[]> {
    return (await this.query(this.statements.listPausedTypes)).map(toPausedType);
  }

  async pruneAttempts(limit: number): Promise<number> {
    return this.execute(this.statements.pruneAttempts, limit);
  }

  async registerInstance(key: string, name: string): Promise<void> {
    await this.execute(this.statements.registerInstance, key, name);
  }

  async pruneInstances(maxAgeMs: number): Promise<number> {
    return this.execute(this.statements.pruneInstances, Math.round(maxAgeMs));
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
