/**
 * The operator's side of SqlJobStore (the JobAdminStore methods the three SQL stores share, and
 * the helpers of their cancel, run-now and diagnosis), on the statement primitives both sides use.
 * SqlJobStore (sql-job-store.ts) extends it with the runner's and the outbox's shared paths.
 */
import type { HorizonHolder, JobActionResult, JobAttempt, JobQuery, PausedType, QueuedJob, QueuedJobWithPayload } from './job-store.interface';
import type { PrismaClientLike, TransactionClientLike } from './prisma-client.interface';
import { classifyJobs, isTrue, sortIds, toAttempt, toPausedType, toQueuedJob, toQueuedJobWithPayload, type Row } from './rows';

/** The operator's statements of a dialect that the shared methods run (a dialect's sql modules have them). */
export interface AdminStatements {
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

/** The store's own transactions wait up to 30 s for the app's (which may hold SQLite's only connection, or MariaDB's rows) rather than fail. */
export const TRANSACTION_WAIT = { maxWait: 30_000, timeout: 30_000 };

export abstract class SqlAdminStore {
  protected constructor(
    protected readonly prisma: PrismaClientLike,
    private readonly adminStatements: AdminStatements,
  ) {}

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

  /**
   * findJobs on a dialect's statement, which takes the state, type, ordering key, dedup key and
   * cursor id (each NULL for any), then the limit; with `eachFilterTwice`, each filter twice, as in
   * `(? IS NULL OR … = ?)` (MariaDB's and SQLite's `?` cannot be named again, PostgreSQL's `$1` can).
   */
  protected async findJobsBy(statement: string, query: JobQuery, { eachFilterTwice }: { eachFilterTwice: boolean }): Promise<QueuedJob[]> {
    const { state, type, orderingKey, dedupKey, after, limit } = query;
    const filters = [state, type, orderingKey, dedupKey, after].map((value) => value ?? null);
    const rows = await this.query(statement, ...(eachFilterTwice ? filters.flatMap((value) => [value, value]) : filters), limit);
    return rows.map(toQueuedJob);
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
    const rows = await this.query(this.adminStatements.getJob, id);
    return rows.length ? toQueuedJobWithPayload(rows[0]) : null;
  }

  async listAttempts(jobId: string): Promise<JobAttempt[]> {
    return (await this.query(this.adminStatements.listAttempts, jobId)).map(toAttempt);
  }

  async pauseType(type: string): Promise<boolean> {
    return (await this.execute(this.adminStatements.pauseType, type)) > 0;
  }

  async resumeType(type: string): Promise<boolean> {
    return (await this.execute(this.adminStatements.resumeType, type)) > 0;
  }

  async listPausedTypes(): Promise<PausedType[]> {
    return (await this.query(this.adminStatements.listPausedTypes)).map(toPausedType);
  }

  async pruneAttempts(limit: number): Promise<number> {
    return this.execute(this.adminStatements.pruneAttempts, limit);
  }

  async registerInstance(key: string, name: string): Promise<void> {
    await this.execute(this.adminStatements.registerInstance, key, name);
  }

  async pruneInstances(maxAgeMs: number): Promise<number> {
    return this.execute(this.adminStatements.pruneInstances, Math.round(maxAgeMs));
  }
}
