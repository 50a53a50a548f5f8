/**
 * PostgreSQL's JobStore: binds the parameters of postgresql.sql.ts's statements and decodes their
 * rows. The runner's statements go through `RunnerSql` (the store's own pg pool, or Prisma); the
 * rest through the app's Prisma client. Wakes runners with NOTIFY (see postgresql.connections.ts).
 * The console's side (jobs by state, bulk dead letters, diagnosis) is PostgresqlAdminStore's, in postgresql.admin.ts.
 */
import { randomUUID } from 'node:crypto';
import type {
  PausedType,
  Claim,
  ClaimedJob,
  ClaimParams,
  IndexUpkeep,
  DeadLetter,
  DeadLetterQuery,
  DeadLetterReason,
  InsertOptions,
  JobError,
  JobStore,
  ListenerEvents,
  NewJob,
  PendingJob,
} from '../job-store.interface';
import type { PrismaClientLike, TransactionClientLike } from '../prisma-client.interface';
import { encodeJobs, orderingKeys, sortIds, toDeadLetter, toPausedType, toPendingJob, type Row } from '../rows';
import { listenForWakeUps, pgDriver, PgPoolSql, PrismaSql, type ListenerPids, type PgConnectionConfig, type RunnerSql } from './postgresql.connections';
import { filterParams, PostgresqlAdminStore, sql } from './postgresql.admin';
import { IndexRebuilder, type ReindexSettings } from './postgresql.reindex';
import { Announcer } from './announcer';
import { OtherListeners } from './other-listeners';
import { insertOne } from './postgresql.insert';
import { PostgresqlRunnerStatements } from './postgresql.runner';

export class PostgresqlJobStore extends PostgresqlAdminStore implements JobStore {
  readonly dialect = 'postgresql' as const;

  /** Where the runner's statements go: the store's own pg pool, or Prisma's raw queries. */
  private readonly runnerSql: RunnerSql;
  /** The runner's claims, settles and leases on those connections (postgresql.runner.ts). */
  private readonly runner: PostgresqlRunnerStatements;
  private readonly announcer: Announcer;
  /** The payload of this store's NOTIFYs, by which its own listener knows them (it is woken in-process instead). */
  private readonly token = randomUUID();
  /** send()'s `notify` while another instance listens: its pg_notify carries the token. */
  private readonly notifyFrom = { from: this.token };
  /** This process's listener connections, and whether another instance listens (other-listeners.ts). */
  private readonly listenerPids: ListenerPids = new Set();
  private readonly others = new OtherListeners(async () => {
    const [row] = await this.runnerSql.rows<{ present: boolean }>(sql.otherListeners, [[...this.listenerPids].join(',')]);
    return row?.present !== false;
  });
  /** Rebuilds the job table's bloated indexes (see postgresql.reindex.ts); absent when turned off or without pg settings. */
  private readonly rebuilder?: IndexRebuilder;

  /**
   * @param listenConnection connection settings for LISTEN; without them the store cannot listen.
   * @param runnerPool settings for a `pg` pool of the store's own that takes the runner's
   *   statements (claim, complete, retry, dead-letter, lease); without them they go through Prisma.
   * @param reindex connection settings and thresholds of the index rebuilds; without them none is done.
   * @param prepare whether the runner pool prepares its per-job statements (runnerPool.preparedStatements).
   */
  constructor(
    prisma: PrismaClientLike,
    private readonly listenConnection?: PgConnectionConfig,
    runnerPool?: PgConnectionConfig & { max: number },
    reindex?: ReindexSettings,
    prepare = true,
  ) {
    super(prisma, sql);
    this.runnerSql = runnerPool ? new PgPoolSql(runnerPool, prepare) : new PrismaSql(prisma);
    this.runner = new PostgresqlRunnerStatements(this.runnerSql);
    this.announcer = new Announcer(() => this.runnerSql.rows(sql.announce, [this.token]));
    if (reindex) this.rebuilder = new IndexRebuilder(reindex);
    if (runnerPool || listenConnection || reindex) {
      try {
        pgDriver(); // loaded at boot, not when the runner starts (see pgDriver)
      } catch {
        // pg is not installed: what needs it says so when it starts (LISTEN falls back to polling).
      }
    }
  }

  async rebuildBloatedIndexes(): Promise<IndexUpkeep> {
    return this.rebuilder ? this.rebuilder.run() : { rebuilt: [], skipped: 'index rebuilds are off (reindex: false, or no pg connection settings)' };
  }

  async inspect(statement: string, params: unknown[]): Promise<Record<string, unknown>[]> {
    return this.runnerSql.rows(statement, params);
  }

  // The runner's housekeeping goes through its own connections, like its claims (see inspect).
  override async listPausedTypes(): Promise<PausedType[]> {
    return (await this.runnerSql.rows<Row>(sql.listPausedTypes, [])).map(toPausedType);
  }

  override async registerInstance(key: string, name: string): Promise<void> {
    await this.runnerSql.count(sql.registerInstance, [key, name]);
  }

  override async pruneInstances(maxAgeMs: number): Promise<number> {
    return this.runnerSql.count(sql.pruneInstances, [Math.round(maxAgeMs)]);
  }

  override async pruneAttempts(limit: number): Promise<number> {
    return this.runnerSql.count(sql.pruneAttempts, [limit]);
  }

  async close(): Promise<void> {
    await this.rebuilder?.close();
    this.localWakeUps.clear();
    await this.announcer.close();
    await this.runnerSql.close();
  }

  async insert(tx: TransactionClientLike, jobs: NewJob[], options: InsertOptions = {}): Promise<string[]> {
    // Without announceAfterCommit, pg_notify runs in the same statement: delivered on commit,
    // folded into one per transaction. (A notifying commit holds a cluster-wide lock, so
    // notifying commits queue behind each other; announce() after the commit avoids that.)
    const notify = options.announceAfterCommit !== true;
    if (jobs.length === 1) return [await this.insertSingle(tx, jobs[0], notify)];
    const keys = orderingKeys(jobs);
    if (keys.length) await tx.$executeRawUnsafe(sql.insert.lockKeys, JSON.stringify(keys));
    const rows = await tx.$queryRawUnsafe<Row[]>(notify ? sql.insert.batch.notify : sql.insert.batch.silent, encodeJobs(jobs));
    return this.insertedIds(tx, jobs, rows);
  }

  /**
   * One job outside the app's transactions: one autocommit statement (insert, and pg_notify
   * while another instance listens: other-listeners.ts) on the runner's connections (its pg
   * pool, else the Prisma client), never an interactive transaction; this process's runner is
   * woken directly once it has committed.
   * A taken dedup key costs one more statement, to read the holder's id.
   */
  async send(job: NewJob): Promise<string> {
    const id = await this.insertSingle(this.autocommit, job, this.others.present() && this.notifyFrom);
    // Committed: this process's runner is woken now; its listener lets the statement's NOTIFY pass.
    this.localWakeUps.wake();
    return id;
  }

  /** The runner's connections as a client of autocommit statements (send). */
  private readonly autocommit: TransactionClientLike = {
    $queryRawUnsafe: <T>(statement: string, ...params: unknown[]) => this.runnerSql.rows(statement, params) as Promise<T>,
    $executeRawUnsafe: (statement: string, ...params: unknown[]) => this.runnerSql.count(statement, params),
  };

  /** One job: its insert, and when its dedup key was taken, the id of the job holding it. */
  private insertSingle(tx: TransactionClientLike, job: NewJob, notify: boolean | { from: string }): Promise<string> {
    if (job.dedupKey === undefined) return insertOne(tx, job, notify) as Promise<string>;
    const key = job.dedupKey;
    return this.untilWritten(async () => (await insertOne(tx, job, notify)) ?? (await this.holderOf(tx, key)));
  }

  /**
   * Wakes the listeners (every instance's runner) after a commit of jobs inserted with
   * announceAfterCommit: this process's at once, the others (while there are any:
   * other-listeners.ts) by a NOTIFY through the runner's connections, spaced (commits that arrive
   * within ANNOUNCE_SPACING_MS of one share the next; see announcer.ts).
   */
  override announce(): void {
    super.announce();
    if (this.others.present()) this.announcer.announce();
  }

  claim(params: ClaimParams): Promise<ClaimedJob[]> {
    return this.runner.claim(params);
  }

  complete(claims: Claim[]): Promise<Set<string>> {
    return this.runner.complete(claims);
  }

  async completeInTransaction(tx: TransactionClientLike, { id, token }: Claim): Promise<boolean> {
    return (await tx.$executeRawUnsafe(sql.completeInTransaction, id, token)) > 0;
  }

  completeUnderLease(claims: Claim[]): Promise<number> {
    return this.runner.completeUnderLease(claims);
  }

  retry(id: string, token: string, delayMs: number, error: JobError): Promise<boolean> {
    return this.runner.retry(id, token, delayMs, error);
  }

  deadLetter(id: string, token: string, error: JobError, reason: DeadLetterReason = 'failed'): Promise<boolean> {
    return this.runner.deadLetter(id, token, error, reason);
  }

  extend(ids: string[], token: string, leaseMs: number): Promise<string[]> {
    return this.runner.extend(ids, token, leaseMs);
  }

  release(ids: string[], token: string): Promise<number> {
    return this.runner.release(ids, token);
  }

  async listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]> {
    const rows = await this.query(sql.listDeadLetters, ...filterParams(query), query.before ?? null, query.limit);
    return rows.map(toDeadLetter);
  }

  async deleteDeadLetters(ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return Number((await this.query(sql.deleteDeadLetters, JSON.stringify(ids)))[0].count);
  }

  async replayDeadLetters(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    return sortIds(await this.query(sql.replayDeadLetters, JSON.stringify(ids)));
  }

  async claimTick(type: string, tick: Date, job: NewJob): Promise<string | null> {
    const rows = await this.query(sql.claimTick, type, this.time(tick), job.payload, job.maxAttempts, job.priority);
    return rows.length ? String(rows[0].id) : null;
  }

  /**
   * LISTEN on a connection of its own (a pg Client), re-established with backoff when it drops;
   * and this process's announce() calls `wake` directly, without waiting for its NOTIFY.
   */
  override async listen(wake: () => void, events: ListenerEvents): Promise<() => Promise<void>> {
    if (!this.listenConnection) throw new Error('no connection string for the listener');
    // Woken in-process from now on: its listener lets this store's NOTIFYs pass from the moment it listens.
    const stopLocal = await super.listen(wake);
    let stopListening: () => Promise<void>;
    try {
      stopListening = await listenForWakeUps(this.listenConnection, sql.listen, wake, events, this.token, this.listenerPids);
    } catch (error) {
      await stopLocal();
      throw error;
    }
    return async () => {
      await stopLocal();
      await stopListening();
    };
  }

  async listJobs(query: { type?: string; limit: number }): Promise<PendingJob[]> {
    const rows = await this.query(sql.listJobs, query.type ?? null, query.limit);
    return rows.map(toPendingJob);
  }
}
