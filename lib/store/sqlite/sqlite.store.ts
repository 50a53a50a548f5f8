/**
 * SQLite's JobStore: binds the parameters of sqlite.sql.ts's statements and decodes their rows.
 * Every statement but insert runs in a transaction of its own (see the class). No LISTEN/NOTIFY:
 * the runner polls.
 */
import type {
  Claim,
  ClaimedJob,
  ClaimParams,
  DeadLetter,
  DeadLetterFilter,
  DeadLetterQuery,
  DeadLetterReason,
  JobActionResult,
  JobError,
  JobQuery,
  JobStore,
  NewJob,
  PendingJob,
  QueuedJob,
  StoreDiagnostics,
} from '../job-store.interface';
import type { PrismaClientLike, TransactionClientLike } from '../prisma-client.interface';
import { encodeJobs, inIdOrder, lostClaims, sortIds, toClaimedJob, toCount, toDeadLetter, toPendingJob, type Row } from '../rows';
import { SqlJobStore } from '../sql-job-store';
import * as sql from './sqlite.sql';

/**
 * Prisma's SQLite adapter has a single connection. A statement sent on the root client while an
 * interactive transaction is open would run inside that transaction: it would see the jobs that
 * transaction wrote before they commit, and be rolled back with it. So every statement here
 * (but insert, which runs in the caller's transaction on purpose) runs in a transaction of its
 * own, which waits for the open one to finish.
 */
export class SqliteJobStore extends SqlJobStore implements JobStore {
  readonly dialect = 'sqlite' as const;

  constructor(prisma: PrismaClientLike) {
    super(prisma, sql);
  }

  protected override query(statement: string, ...params: unknown[]): Promise<Row[]> {
    return this.transaction((tx) => tx.$queryRawUnsafe<Row[]>(statement, ...params));
  }

  protected override execute(statement: string, ...params: unknown[]): Promise<number> {
    return this.transaction((tx) => tx.$executeRawUnsafe(statement, ...params));
  }

  async insert(tx: TransactionClientLike, jobs: NewJob[]): Promise<string[]> {
    return this.insertedIds(tx, jobs, await tx.$queryRawUnsafe<Row[]>(sql.insert.batch, encodeJobs(jobs)));
  }

  /** One job outside the app's transactions (outbox.send): in a transaction of the store's own, like every statement here (see the class). */
  async send(job: NewJob): Promise<string> {
    const id = await this.untilWritten(() => this.transaction(async (tx) => (await this.insert(tx, [job]))[0]));
    this.localWakeUps.wake(); // committed: this process's runner claims it now
    return id;
  }

  async claim({ limit, leaseMs, token, excludeTypes = [] }: ClaimParams): Promise<ClaimedJob[]> {
    const rows = await this.query(sql.claim, leaseMs, token, JSON.stringify(excludeTypes), limit);
    return inIdOrder(rows.map(toClaimedJob));
  }

  async complete(claims: Claim[]): Promise<Set<string>> {
    if (claims.length === 0) return new Set();
    return lostClaims(claims, await this.query(sql.complete, JSON.stringify(claims.map(({ id, token }) => ({ id, token })))));
  }

  async completeInTransaction(tx: TransactionClientLike, { id, token }: Claim): Promise<boolean> {
    return (await tx.$executeRawUnsafe(sql.completeInTransaction, id, token)) > 0;
  }

  async retry(id: string, token: string, delayMs: number, error: JobError): Promise<boolean> {
    return this.transaction(async (tx) => {
      if ((await tx.$executeRawUnsafe(sql.retry.update, Math.round(delayMs), error.message, id, token)) === 0) return false;
      await tx.$executeRawUnsafe(sql.retry.history, error.message, error.stack ?? null, id);
      return true;
    });
  }

  async deadLetter(id: string, token: string, error: JobError, reason: DeadLetterReason = 'failed'): Promise<boolean> {
    return this.moveToDeadLetters(sql.deadLetter, id, token, error, reason);
  }

  async extend(ids: string[], token: string, leaseMs: number): Promise<string[]> {
    if (ids.length === 0) return [];
    return (await this.query(sql.extend, leaseMs, JSON.stringify(ids), token)).map((row) => String(row.id));
  }

  async release(ids: string[], token: string): Promise<number> {
    if (ids.length === 0) return 0;
    return this.execute(sql.release, JSON.stringify(ids), token);
  }

  async listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]> {
    const before = query.before ?? null;
    return (await this.query(sql.listDeadLetters, ...filterParams(query), before, before, query.limit)).map(toDeadLetter);
  }

  async deleteDeadLetters(ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.deleteWithHistory(sql.deleteDeadLetters, ids);
  }

  findJobs(query: JobQuery): Promise<QueuedJob[]> {
    return this.findJobsBy(sql.findJobs, query, { eachFilterTwice: true });
  }

  cancelJobs(ids: string[], message: string): Promise<JobActionResult> {
    return this.actOnQueued(sql.cancelJobs, ids, async (tx, rows) => {
      const list = JSON.stringify(rows.map((row) => row.id));
      await tx.$executeRawUnsafe(sql.cancelJobs.copy, message, list);
      await tx.$executeRawUnsafe(sql.cancelJobs.remove, list);
      return { done: sortIds(rows), unchanged: [] };
    });
  }

  runJobsNow(ids: string[]): Promise<JobActionResult> {
    return this.actOnQueued(sql.runJobsNow, ids, (tx, rows) => this.makeDue(tx, rows, sql.runJobsNow.update));
  }

  async countDeadLetters(filter: DeadLetterFilter): Promise<number> {
    return Number((await this.query(sql.countDeadLetters, ...filterParams(filter)))[0].count);
  }

  async replayDeadLettersMatching(filter: DeadLetterFilter): Promise<string[]> {
    return this.moveToQueue(sql.replayDeadLetters, (tx) => this.selectDeadLetters(tx, filter));
  }

  async deleteDeadLettersMatching(filter: DeadLetterFilter): Promise<number> {
    return this.deleteWithHistory(sql.deleteDeadLetters, (tx) => this.selectDeadLetters(tx, filter));
  }

  private async selectDeadLetters(tx: TransactionClientLike, filter: DeadLetterFilter): Promise<string[]> {
    return (await tx.$queryRawUnsafe<Row[]>(sql.selectDeadLetters, ...filterParams(filter))).map((row) => String(row.id));
  }

  async diagnose(): Promise<StoreDiagnostics> {
    const unavailable: string[] = [];
    const { diagnose } = sql;
    const [file] = (await this.figure('the database file (pragmas)', unavailable, diagnose.file)) ?? [];
    const tables = (await this.figure('tables', unavailable, diagnose.tables)) ?? [];
    const indexes = (await this.figure('indexes', unavailable, diagnose.indexes)) ?? [];
    const sizes = await this.figure('sizes (the dbstat table)', unavailable, diagnose.sizes);
    const bytes = new Map((sizes ?? []).map((row) => [String(row.name), toCount(row.bytes)]));
    const result: StoreDiagnostics = { dialect: 'sqlite', tables: [], unavailable };
    for (const row of tables) {
      const table = String(row.table);
      const [count] = (await this.figure(`rows of ${table}`, unavailable, diagnose.rows(table))) ?? [];
      const own = indexes.filter((index) => index.table === table).map((index) => ({ name: String(index.name), bytes: sizes ? (bytes.get(String(index.name)) ?? 0) : null }));
      result.tables.push({
        table,
        rows: count ? toCount(count.rows) : null,
        deadRows: null,
        tableBytes: sizes ? (bytes.get(table) ?? 0) : null,
        indexBytes: sizes ? own.reduce((sum, index) => sum + (index.bytes ?? 0), 0) : null,
        freeBytes: null,
        lastVacuum: null,
        lastAutovacuum: null,
        indexes: own,
      });
    }
    if (file) {
      const autoVacuum = ['none', 'full', 'incremental'][Number(file.auto_vacuum)] ?? String(file.auto_vacuum);
      result.file = { pageSize: Number(file.page_size), pages: Number(file.pages), freePages: Number(file.free_pages), autoVacuum, journalMode: String(file.journal_mode) };
    }
    return result;
  }

  async replayDeadLetters(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    return this.moveToQueue(sql.replayDeadLetters, ids);
  }

  async claimTick(type: string, tick: Date, job: NewJob): Promise<string | null> {
    return this.claimTickWith(async (tx) => (await tx.$queryRawUnsafe<Row[]>(sql.claimTick, type, this.time(tick))).length > 0, job);
  }

  async listJobs(query: { type?: string; limit: number }): Promise<PendingJob[]> {
    const type = query.type ?? null;
    return (await this.query(sql.listJobs, type, type, query.limit)).map(toPendingJob);
  }
}

/** A DeadLetterFilter as the statements' parameters: type, reason, failed before, failed after, each twice (NULL for any). */
function filterParams(filter: DeadLetterFilter): unknown[] {
  const values = [filter.type ?? null, filter.reason ?? null, filter.failedBefore?.toISOString() ?? null, filter.failedAfter?.toISOString() ?? null];
  return values.flatMap((value) => [value, value]);
}
