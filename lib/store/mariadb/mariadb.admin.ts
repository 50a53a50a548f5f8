/**
 * MariaDB: the operator's side of its JobStore (DoctorJobAdminService, `doctor-job` commands):
 * jobs by state, cancel and run-now, dead letters by filter, pruning and diagnosis, on the
 * statements of mariadb.admin.sql.ts. MariadbJobStore (mariadb.store.ts) extends it with the
 * runner's and the outbox's paths.
 */
import type { DeadLetterFilter, JobActionResult, JobQuery, QueuedJob, StoreDiagnostics, TableDiagnostics } from '../job-store.interface';
import type { PrismaClientLike, TransactionClientLike } from '../prisma-client.interface';
import { sortIds, toCount, toHorizonHolder, type Row } from '../rows';
import { SqlJobStore } from '../sql-job-store';
import { filterParams, retryOnDeadlock, sql } from './mariadb.common';

export abstract class MariadbAdminStore extends SqlJobStore {
  protected constructor(prisma: PrismaClientLike) {
    super(prisma, sql);
  }

  findJobs(query: JobQuery): Promise<QueuedJob[]> {
    return this.findJobsBy(sql.findJobs, query, { eachFilterTwice: true });
  }

  cancelJobs(ids: string[], message: string): Promise<JobActionResult> {
    return retryOnDeadlock(() =>
      this.actOnQueued(sql.cancelJobs, ids, async (tx, rows) => {
        const ids = rows.map((row) => String(row.id));
        await tx.$executeRawUnsafe(sql.cancelJobs.copy, message, JSON.stringify(ids));
        await tx.$executeRawUnsafe(sql.cancelJobs.remove(ids.length), ...ids);
        return { done: sortIds(rows), unchanged: [] };
      }),
    );
  }

  runJobsNow(ids: string[]): Promise<JobActionResult> {
    return retryOnDeadlock(() =>
      this.actOnQueued(sql.runJobsNow, ids, (tx, rows) => this.makeDue(tx, rows, (due) => tx.$executeRawUnsafe(sql.runJobsNow.update(due.length), ...due))),
    );
  }

  async countDeadLetters(filter: DeadLetterFilter): Promise<number> {
    return Number((await this.query(sql.countDeadLetters, ...filterParams(filter)))[0].count);
  }

  async replayDeadLettersMatching(filter: DeadLetterFilter): Promise<string[]> {
    return retryOnDeadlock(() => this.moveToQueue(sql.replayDeadLetters, (tx) => this.selectDeadLetters(tx, filter)));
  }

  async deleteDeadLettersMatching(filter: DeadLetterFilter): Promise<number> {
    return retryOnDeadlock(() => this.deleteWithHistory(sql.deleteDeadLetters, (tx) => this.selectDeadLetters(tx, filter)));
  }

  private async selectDeadLetters(tx: TransactionClientLike, filter: DeadLetterFilter): Promise<string[]> {
    return (await tx.$queryRawUnsafe<Row[]>(sql.selectDeadLetters, ...filterParams(filter))).map((row) => String(row.id));
  }

  override async pruneAttempts(limit: number): Promise<number> {
    return retryOnDeadlock(() => super.pruneAttempts(limit));
  }

  async diagnose(): Promise<StoreDiagnostics> {
    const unavailable: string[] = [];
    const { diagnose } = sql;
    const tables = await this.figure('table sizes (information_schema.tables)', unavailable, diagnose.tables);
    const indexes = await this.figure('index sizes (mysql.innodb_index_stats)', unavailable, diagnose.indexes);
    const transaction = await this.figure('open transactions (information_schema.innodb_trx, needs the PROCESS privilege)', unavailable, diagnose.transaction);
    const purge = await this.figure('purge backlog (information_schema.innodb_metrics)', unavailable, diagnose.purge);
    const byTable = (row: Row): TableDiagnostics => ({
      table: String(row.table),
      rows: toCount(row.rows),
      deadRows: null,
      tableBytes: toCount(row.table_bytes),
      indexBytes: toCount(row.index_bytes),
      freeBytes: toCount(row.free_bytes),
      lastVacuum: null,
      lastAutovacuum: null,
      indexes: (indexes ?? []).filter((index) => index.table === row.table).map((index) => ({ name: String(index.name), bytes: toCount(index.bytes) })),
    });
    return {
      dialect: 'mysql',
      tables: (tables ?? []).map(byTable),
      oldestHorizonHolder: transaction === undefined ? undefined : transaction[0] ? toHorizonHolder(transaction[0], 'transaction') : null,
      purgeBacklog: purge?.[0] ? toCount(purge[0].count) : null,
      unavailable,
    };
  }
}
