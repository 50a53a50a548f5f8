/**
 * MariaDB's JobStore (the `mysql` dialect option): binds the parameters of mariadb.sql.ts's
 * statements and decodes their rows. Claims lock rows with FOR UPDATE SKIP LOCKED in a
 * transaction of their own; the runner's writes are retried on InnoDB deadlocks. No LISTEN/NOTIFY: the runner polls.
 */
import { emptyList } from '../../util/lists';
import type { Claim, ClaimedJob, ClaimParams, DeadLetter, DeadLetterQuery, DeadLetterReason, JobError, JobStore, NewJob, PendingJob } from '../job-store.interface';
import type { PrismaClientLike, TransactionClientLike } from '../prisma-client.interface';
import { encodeJobs, inIdOrder, lostClaims, orderingKeys, toClaimedJob, toDeadLetter, toPendingJob, type Row } from '../rows';
import { MariadbAdminStore } from './mariadb.admin';
import { filterParams, mariadbTime, retryOnDeadlock, sql } from './mariadb.common';

/** MariaDB's JobStore: the runner's and the outbox's paths here, the console's in MariadbAdminStore (mariadb.admin.ts). */
export class MariadbJobStore extends MariadbAdminStore implements JobStore {
  readonly dialect = 'mysql' as const;

  constructor(prisma: PrismaClientLike) {
    super(prisma);
  }

  protected override time(date: Date): string {
    return mariadbTime(date);
  }

  async insert(tx: TransactionClientLike, jobs: NewJob[]): Promise<string[]> {
    const keys = orderingKeys(jobs);
    if (keys.length) await this.lockKeys(tx, keys);
    const rows = await tx.$queryRawUnsafe<Row[]>(sql.insert.batch, ...Array(2).fill(encodeJobs(jobs)));
    return this.insertedIds(tx, jobs, rows);
  }

  /**
   * One job outside the app's transactions (outbox.send): one autocommit INSERT ... RETURNING on
   * the Prisma client; with an ordering key, a transaction of the store's own, since the key's row
   * lock (doctor_job_key_lock) must be held until the job is committed.
   */
  async send(job: NewJob): Promise<string> {
    const id =
      job.orderingKey === undefined
        ? await this.untilWritten(async () => (await this.insert(this.prisma, [job]))[0])
        : await this.untilWritten(() => this.transaction(async (tx) => (await this.insert(tx, [job]))[0]));
    this.localWakeUps.wake(); // committed: this process's runner claims it now
    return id;
  }

  /** Holds the keys' locks in `tx` (see sql.lockKeys); a key seen for the first time gets its row first, on a connection of its own. */
  private async lockKeys(tx: TransactionClientLike, keys: string[]): Promise<void> {
    const list = JSON.stringify(keys);
    const known = await tx.$queryRawUnsafe<Row[]>(sql.lockKeys.known, list);
    if (known.length < keys.length) await this.execute(sql.lockKeys.create, list);
    await tx.$queryRawUnsafe<Row[]>(sql.lockKeys.lock(keys.length), ...keys);
  }

  async claim({ limit, leaseMs, token, excludeTypes = [] }: ClaimParams): Promise<ClaimedJob[]> {
    return retryOnDeadlock(async () => {
      return this.transaction(async (tx) => {
        const due = await tx.$queryRawUnsafe<Row[]>(sql.claim.lock, JSON.stringify(excludeTypes), limit);
        if (due.length === 0) return emptyList<ClaimedJob>();
        const list = due.map((row) => String(row.id));
        await tx.$executeRawUnsafe(sql.claim.stamp(list.length), leaseMs, token, ...list);
        const rows = await tx.$queryRawUnsafe<Row[]>(sql.claim.read, JSON.stringify(list));
        return inIdOrder(rows.map(toClaimedJob));
      });
    });
  }

  async complete(claims: Claim[]): Promise<Set<string>> {
    return retryOnDeadlock(async () => {
      if (claims.length === 0) return new Set();
      const rows = await this.query(sql.complete(claims.length), ...claims.map((c) => c.id), JSON.stringify(claims.map(({ id, token }) => ({ id, token }))));
      return lostClaims(claims, rows);
    });
  }

  async completeInTransaction(tx: TransactionClientLike, { id, token }: Claim): Promise<boolean> {
    // Inside the handler's transaction: a deadlock here rolls it back, and the job is retried.
    return (await tx.$executeRawUnsafe(sql.completeInTransaction, id, token)) > 0;
  }

  async retry(id: string, token: string, delayMs: number, error: JobError): Promise<boolean> {
    return retryOnDeadlock(() =>
      this.transaction(async (tx) => {
        if ((await tx.$executeRawUnsafe(sql.retry.update, Math.round(delayMs), error.message, id, token)) === 0) return false;
        await tx.$executeRawUnsafe(sql.retry.history, error.message, error.stack ?? null, id);
        return true;
      }),
    );
  }

  async deadLetter(id: string, token: string, error: JobError, reason: DeadLetterReason = 'failed'): Promise<boolean> {
    return retryOnDeadlock(() => this.moveToDeadLetters(sql.deadLetter, id, token, error, reason));
  }

  async extend(ids: string[], token: string, leaseMs: number): Promise<string[]> {
    return retryOnDeadlock(async () => {
      if (ids.length === 0) return [];
      return this.transaction(async (tx) => {
        await tx.$executeRawUnsafe(sql.extend.update(ids.length), leaseMs, ...ids, token);
        const rows = await tx.$queryRawUnsafe<Row[]>(sql.extend.held, JSON.stringify(ids), token);
        return rows.map((row) => String(row.id));
      });
    });
  }

  async release(ids: string[], token: string): Promise<number> {
    return retryOnDeadlock(async () => {
      if (ids.length === 0) return 0;
      return this.execute(sql.release(ids.length), ...ids, token);
    });
  }

  async listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]> {
    const before = query.before ?? null;
    return (await this.query(sql.listDeadLetters, ...filterParams(query), before, before, query.limit)).map(toDeadLetter);
  }

  async deleteDeadLetters(ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return retryOnDeadlock(() => this.deleteWithHistory(sql.deleteDeadLetters, ids));
  }

  async replayDeadLetters(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    return retryOnDeadlock(() => this.moveToQueue(sql.replayDeadLetters, ids));
  }

  async claimTick(type: string, tick: Date, job: NewJob): Promise<string | null> {
    // Instances racing for one tick deadlock here (INSERT IGNORE's shared lock, then the UPDATE's
    // exclusive one): the loser runs again and finds the tick taken.
    return retryOnDeadlock(() =>
      this.claimTickWith(async (tx) => {
        await tx.$executeRawUnsafe(sql.claimTick.init, type, mariadbTime(new Date(0)));
        return (await tx.$executeRawUnsafe(sql.claimTick.advance, mariadbTime(tick), type, mariadbTime(tick))) > 0;
      }, job),
    );
  }

  async listJobs(query: { type?: string; limit: number }): Promise<PendingJob[]> {
    const type = query.type ?? null;
    return (await this.query(sql.listJobs, type, type, query.limit)).map(toPendingJob);
  }
}
