/**
 * SQLite's JobStore: binds the parameters of sqlite.sql.ts's statements and decodes their rows.
 * Every statement but insert runs in a transaction of its own (see the class). No LISTEN/NOTIFY:
 * the runner polls.
 */
import type { Claim, ClaimedJob, ClaimParams, DeadLetter, DeadLetterQuery, JobError, JobStore, NewJob, PendingJob } from '../job-store.interface';
import type { PrismaClientLike, TransactionClientLike } from '../prisma-client.interface';
import { compareIds, encodeJobs, lostClaims, toClaimedJob, toDeadLetter, toPendingJob, type Row } from '../rows';
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

  async claim({ limit, leaseMs, token, excludeTypes = [] }: ClaimParams): Promise<ClaimedJob[]> {
    const rows = await this.query(sql.claim, leaseMs, token, JSON.stringify(excludeTypes), limit);
    return rows.map(toClaimedJob).sort((a, b) => compareIds(a.id, b.id));
  }

  async complete(claims: Claim[]): Promise<Set<string>> {
    if (claims.length === 0) return new Set();
    return lostClaims(claims, await this.query(sql.complete, JSON.stringify(claims.map(({ id, token }) => ({ id, token })))));
  }

  async completeInTransaction(tx: TransactionClientLike, { id, token }: Claim): Promise<boolean> {
    return (await tx.$executeRawUnsafe(sql.completeInTransaction, id, token)) > 0;
  }

  async retry(id: string, token: string, delayMs: number, error: JobError): Promise<boolean> {
    return (await this.execute(sql.retry, Math.round(delayMs), error.message, id, token)) > 0;
  }

  async deadLetter(id: string, token: string, error: JobError): Promise<boolean> {
    return this.moveToDeadLetters(sql.deadLetter, id, token, error);
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
    const type = query.type ?? null;
    const before = query.before ?? null;
    return (await this.query(sql.listDeadLetters, type, type, before, before, query.limit)).map(toDeadLetter);
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
