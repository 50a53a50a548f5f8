/**
 * PostgreSQL's JobStore: binds the parameters of postgresql.sql.ts's statements and decodes their
 * rows. The runner's statements go through `RunnerSql` (the store's own pg pool, or Prisma); the
 * rest through the app's Prisma client. Wakes runners with NOTIFY (see postgresql.connections.ts).
 */
import type {
  PausedType,
  Claim,
  ClaimedJob,
  ClaimParams,
  IndexUpkeep,
  DeadLetter,
  DeadLetterFilter,
  DeadLetterQuery,
  DeadLetterReason,
  InsertOptions,
  JobActionResult,
  JobError,
  JobQuery,
  JobStore,
  ListenerEvents,
  NewJob,
  PendingJob,
  QueuedJob,
  StoreDiagnostics,
  TableDiagnostics,
} from '../job-store.interface';
import type { PrismaClientLike, TransactionClientLike } from '../prisma-client.interface';
import { compareIds, encodeJobs, orderingKeys, sortIds, toCount, toDate, toDeadLetter, toHorizonHolder, toPausedType, toPendingJob, toQueuedJob, type Row } from '../rows';
import { SqlJobStore } from '../sql-job-store';
import { Announcer, listenForWakeUps, PgPoolSql, PrismaSql, type PgConnectionConfig, type RunnerSql } from './postgresql.connections';
import * as adminSql from './postgresql.admin.sql';
import { IndexRebuilder, type ReindexSettings } from './postgresql.reindex';
import * as baseSql from './postgresql.sql';

/** Every statement of the dialect: the runner's and the outbox's, and the console's. */
const sql = { ...baseSql, ...adminSql };

/** A PostgreSQL array literal of ids, positions or uuids (none needs quoting, which pg would do per element). */
function pgArray(values: Iterable<string | number>): string {
  return `{${[...values].join(',')}}`;
}

/** Sorts claimed jobs by id, unless they came in that order (a sort of a batch of 1,000 is not free). */
function inIdOrder(jobs: ClaimedJob[]): ClaimedJob[] {
  for (let i = 1; i < jobs.length; i++) if (compareIds(jobs[i - 1].id, jobs[i].id) > 0) return jobs.sort((a, b) => compareIds(a.id, b.id));
  return jobs;
}

export class PostgresqlJobStore extends SqlJobStore implements JobStore {
  readonly dialect = 'postgresql' as const;

  /** Where the runner's statements go: the store's own pg pool, or Prisma's raw queries. */
  private readonly runnerSql: RunnerSql;
  private readonly announcer: Announcer;
  /** Rebuilds the job table's bloated indexes (see postgresql.reindex.ts); absent when turned off or without pg settings. */
  private readonly rebuilder?: IndexRebuilder;

  /**
   * @param listenConnection connection settings for LISTEN; without them the store cannot listen.
   * @param runnerPool settings for a `pg` pool of the store's own that takes the runner's
   *   statements (claim, complete, retry, dead-letter, lease); without them they go through Prisma.
   * @param reindex connection settings and thresholds of the index rebuilds; without them none is done.
   */
  constructor(
    prisma: PrismaClientLike,
    private readonly listenConnection?: PgConnectionConfig,
    runnerPool?: PgConnectionConfig & { max: number },
    reindex?: ReindexSettings,
  ) {
    super(prisma, sql);
    this.runnerSql = runnerPool ? new PgPoolSql(runnerPool) : new PrismaSql(prisma);
    this.announcer = new Announcer(() => this.runnerSql.rows(sql.announce, []));
    if (reindex) this.rebuilder = new IndexRebuilder(reindex);
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
   * One job outside the app's transactions: one autocommit statement (insert + pg_notify) on the
   * runner's connections (its pg pool, else the Prisma client), never an interactive transaction.
   * A taken dedup key costs one more statement, to read the holder's id.
   */
  async send(job: NewJob): Promise<string> {
    return this.insertSingle(this.autocommit, job, true);
  }

  /** The runner's connections as a client of autocommit statements (send). */
  private readonly autocommit: TransactionClientLike = {
    $queryRawUnsafe: <T>(statement: string, ...params: unknown[]) => this.runnerSql.rows(statement, params) as Promise<T>,
    $executeRawUnsafe: (statement: string, ...params: unknown[]) => this.runnerSql.count(statement, params),
  };

  /** One job: its insert, and when its dedup key was taken, the id of the job holding it. */
  private insertSingle(tx: TransactionClientLike, job: NewJob, notify: boolean): Promise<string> {
    if (job.dedupKey === undefined) return this.insertOne(tx, job, notify) as Promise<string>;
    const key = job.dedupKey;
    return this.untilWritten(async () => (await this.insertOne(tx, job, notify)) ?? (await this.holderOf(tx, key)));
  }

  /**
   * One job (the common enqueue): plain parameters, and only the columns that differ from the
   * table's defaults, so the usual enqueue sends three values. Undefined when its dedup key was
   * taken. The statement's text is built once per shape (which columns, notify or not).
   */
  private async insertOne(tx: TransactionClientLike, job: NewJob, notify: boolean): Promise<string | undefined> {
    const params: unknown[] = [job.type, job.payload, job.maxAttempts];
    // Bit 0: notify; bit k+1: the k-th optional column of SINGLE_INSERT_OPTIONAL is sent.
    let shape = notify ? 1 : 0;
    if (job.priority !== 0) (shape |= 1 << 1), params.push(job.priority);
    if (job.orderingKey !== undefined) (shape |= 1 << 2), params.push(job.orderingKey);
    if (job.runAt) (shape |= 1 << 3), params.push(job.runAt.toISOString());
    else if (job.delayMs) (shape |= 1 << 4), params.push(job.delayMs);
    if (job.traceContext !== undefined) (shape |= 1 << 5), params.push(job.traceContext);
    if (job.dedupKey !== undefined) (shape |= 1 << 6), params.push(job.dedupKey);
    let statement = SINGLE_INSERTS.get(shape);
    if (statement === undefined) SINGLE_INSERTS.set(shape, (statement = singleInsert(shape)));
    const rows = await tx.$queryRawUnsafe<{ id: string }[]>(statement, ...params);
    return rows[0]?.id;
  }

  /**
   * Wakes the listeners (every instance's runner) after a commit of jobs inserted with
   * announceAfterCommit: one NOTIFY at a time through the runner's connections; commits that
   * arrive while one is in flight share the next one.
   */
  announce(): void {
    this.announcer.announce();
  }

  async claim({ limit, leaseMs, token, excludeTypes = [] }: ClaimParams): Promise<ClaimedJob[]> {
    // One row, one column: the batch as a JSON array of [id, type, payload, attempts, max_attempts, created_at (epoch ms), trace_context].
    const [row] = await this.runnerSql.arrays(sql.claim, [limit, leaseMs, token, excludeTypes.length ? JSON.stringify(excludeTypes) : null]);
    const text = row?.[0] as string | null | undefined;
    if (!text) return [];
    const claimed = JSON.parse(text) as [string, string, unknown, number, number, number, string | null][];
    const jobs: ClaimedJob[] = new Array(claimed.length);
    for (let i = 0; i < claimed.length; i++) {
      const [id, type, payload, attempts, maxAttempts, createdAt, traceContext] = claimed[i];
      jobs[i] = { id, type, payload, attempt: attempts, maxAttempts, createdAt: new Date(createdAt), traceContext };
    }
    return inIdOrder(jobs);
  }

  async complete(claims: Claim[]): Promise<Set<string>> {
    if (claims.length === 0) return new Set();
    // Compact parameters: the ids, and for each the position of its token in a list of the
    // batch's tokens (mostly one or two claims).
    const tokens: string[] = [];
    const position = new Map<string, number>();
    const ids: string[] = new Array(claims.length);
    const at: number[] = new Array(claims.length);
    for (let i = 0; i < claims.length; i++) {
      const { id, token } = claims[i];
      let p = position.get(token);
      if (p === undefined) position.set(token, (p = tokens.push(token)));
      ids[i] = id;
      at[i] = p;
    }
    const rows = await this.runnerSql.rows<{ claim: string }>(sql.complete, [pgArray(ids), pgArray(at), pgArray(tokens)]);
    return new Set(rows.map((row) => row.claim));
  }

  async completeInTransaction(tx: TransactionClientLike, { id, token }: Claim): Promise<boolean> {
    return (await tx.$executeRawUnsafe(sql.completeInTransaction, id, token)) > 0;
  }

  async completeUnderLease(claims: Claim[]): Promise<number> {
    if (claims.length === 0) return 0;
    // No per-row result to build and send: about 40 % less database time than complete().
    const tokens = new Set<string>();
    const ids: string[] = new Array(claims.length);
    for (let i = 0; i < claims.length; i++) {
      ids[i] = claims[i].id;
      tokens.add(claims[i].token);
    }
    return this.runnerSql.count(sql.completeUnderLease, [pgArray(ids), pgArray(tokens)]);
  }

  async retry(id: string, token: string, delayMs: number, error: JobError): Promise<boolean> {
    return (await this.runnerSql.count(sql.retry, [id, token, Math.round(delayMs), error.message, error.stack ?? null])) > 0;
  }

  async deadLetter(id: string, token: string, error: JobError, reason: DeadLetterReason = 'failed'): Promise<boolean> {
    return (await this.runnerSql.count(sql.deadLetter, [id, token, error.message, error.stack ?? null, reason])) > 0;
  }

  async extend(ids: string[], token: string, leaseMs: number): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.runnerSql.rows<{ id: string }>(sql.extend, [JSON.stringify(ids), token, leaseMs]);
    return rows.map((row) => row.id);
  }

  async release(ids: string[], token: string): Promise<number> {
    if (ids.length === 0) return 0;
    return this.runnerSql.count(sql.release, [JSON.stringify(ids), token]);
  }

  async listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]> {
    const rows = await this.query(sql.listDeadLetters, ...filterParams(query), query.before ?? null, query.limit);
    return rows.map(toDeadLetter);
  }

  async deleteDeadLetters(ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return Number((await this.query(sql.deleteDeadLetters, JSON.stringify(ids)))[0].count);
  }

  async findJobs(query: JobQuery): Promise<QueuedJob[]> {
    const { state, type, orderingKey, dedupKey, after, limit } = query;
    const rows = await this.query(sql.findJobs, state ?? null, type ?? null, orderingKey ?? null, dedupKey ?? null, after ?? null, limit);
    return rows.map(toQueuedJob);
  }

  cancelJobs(ids: string[], message: string): Promise<JobActionResult> {
    return this.actOnQueued(sql.cancelJobs, ids, async (tx, rows) => {
      const moved = await tx.$queryRawUnsafe<Row[]>(sql.cancelJobs.move, JSON.stringify(rows.map((row) => row.id)), message);
      return { done: sortIds(moved), unchanged: [] };
    });
  }

  runJobsNow(ids: string[]): Promise<JobActionResult> {
    return this.actOnQueued(sql.runJobsNow, ids, (tx, rows) => this.makeDue(tx, rows, sql.runJobsNow.update));
  }

  async countDeadLetters(filter: DeadLetterFilter): Promise<number> {
    return Number((await this.query(sql.countDeadLetters, ...filterParams(filter)))[0].count);
  }

  async replayDeadLettersMatching(filter: DeadLetterFilter): Promise<string[]> {
    return sortIds(await this.query(sql.replayDeadLettersMatching, ...filterParams(filter)));
  }

  async deleteDeadLettersMatching(filter: DeadLetterFilter): Promise<number> {
    return Number((await this.query(sql.deleteDeadLettersMatching, ...filterParams(filter)))[0].count);
  }

  async diagnose(): Promise<StoreDiagnostics> {
    const unavailable: string[] = [];
    const { diagnose } = sql;
    const [tables, indexes, session, slot, prepared] = [
      await this.figure('table sizes', unavailable, diagnose.tables),
      await this.figure('index sizes', unavailable, diagnose.indexes),
      await this.figure('open transactions (pg_stat_activity)', unavailable, diagnose.session),
      await this.figure('replication slots', unavailable, diagnose.slot),
      await this.figure('prepared transactions', unavailable, diagnose.prepared),
    ];
    const byTable = (row: Row): TableDiagnostics => ({
      table: String(row.table),
      rows: toCount(row.rows),
      deadRows: toCount(row.dead_rows),
      tableBytes: toCount(row.table_bytes),
      indexBytes: toCount(row.index_bytes),
      freeBytes: null,
      lastVacuum: row.last_vacuum ? toDate(row.last_vacuum) : null,
      lastAutovacuum: row.last_autovacuum ? toDate(row.last_autovacuum) : null,
      indexes: (indexes ?? []).filter((index) => index.table === row.table).map((index) => ({ name: String(index.name), bytes: toCount(index.bytes) })),
    });
    const holders = [
      session?.[0] && toHorizonHolder(session[0], 'transaction'),
      slot?.[0] && toHorizonHolder(slot[0], 'replication slot'),
      prepared?.[0] && toHorizonHolder(prepared[0], 'prepared transaction'),
    ];
    const known = session !== undefined;
    return { dialect: 'postgresql', tables: (tables ?? []).map(byTable), oldestHorizonHolder: known ? this.oldestHolder(holders) : undefined, unavailable };
  }

  async replayDeadLetters(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    return sortIds(await this.query(sql.replayDeadLetters, JSON.stringify(ids)));
  }

  async claimTick(type: string, tick: Date, job: NewJob): Promise<string | null> {
    const rows = await this.query(sql.claimTick, type, this.time(tick), job.payload, job.maxAttempts, job.priority);
    return rows.length ? String(rows[0].id) : null;
  }

  /** LISTEN on a connection of its own (a pg Client), re-established with backoff when it drops. */
  async listen(wake: () => void, events: ListenerEvents): Promise<() => Promise<void>> {
    if (!this.listenConnection) throw new Error('no connection string for the listener');
    return listenForWakeUps(this.listenConnection, sql.listen, wake, events);
  }

  async listJobs(query: { type?: string; limit: number }): Promise<PendingJob[]> {
    const rows = await this.query(sql.listJobs, query.type ?? null, query.limit);
    return rows.map(toPendingJob);
  }
}

/** The single-job insert statements built so far, by shape (see insertOne). */
const SINGLE_INSERTS = new Map<number, string>();

/** The statement of a shape bit mask of insertOne. */
function singleInsert(bits: number): string {
  const shape: baseSql.SingleInsertShape = { notify: (bits & 1) !== 0 };
  baseSql.SINGLE_INSERT_OPTIONAL.forEach((name, k) => (shape[name] = (bits & (1 << (k + 1))) !== 0));
  return sql.insert.single(shape);
}

/** A DeadLetterFilter as the statements' four parameters: type, reason, failed before, failed after (ISO text; NULL for any). */
function filterParams(filter: DeadLetterFilter): unknown[] {
  return [filter.type ?? null, filter.reason ?? null, filter.failedBefore?.toISOString() ?? null, filter.failedAfter?.toISOString() ?? null];
}
