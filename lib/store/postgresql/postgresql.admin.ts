/**
 * PostgreSQL: the operator's side of its JobStore (DoctorJobAdminService, `doctor-job` commands):
 * jobs by state, cancel and run-now, dead letters by filter, and the diagnosis `doctor` judges, on
 * the statements of postgresql.admin.sql.ts. PostgresqlJobStore (postgresql.store.ts) extends it
 * with the runner's and the outbox's paths.
 */
import type { DeadLetterFilter, JobActionResult, JobQuery, QueuedJob, StoreDiagnostics, TableDiagnostics } from '../job-store.interface';
import { sortIds, toCount, toDate, toHorizonHolder, type Row } from '../rows';
import { SqlJobStore } from '../sql-job-store';
import * as adminSql from './postgresql.admin.sql';
import * as baseSql from './postgresql.sql';

/** Every statement of the dialect: the runner's and the outbox's, and the console's. */
export const sql = { ...baseSql, ...adminSql };

export abstract class PostgresqlAdminStore extends SqlJobStore {
  async findJobs(query: JobQuery): Promise<QueuedJob[]> {
    return this.findJobsBy(sql.findJobs, query, { eachFilterTwice: false }); // $1..$5 name each filter once
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
      ...(row.partitioned === true ? { partitioned: true } : {}),
    });
    const holders = [
      session?.[0] && toHorizonHolder(session[0], 'transaction'),
      slot?.[0] && toHorizonHolder(slot[0], 'replication slot'),
      prepared?.[0] && toHorizonHolder(prepared[0], 'prepared transaction'),
    ];
    const known = session !== undefined;
    return { dialect: 'postgresql', tables: (tables ?? []).map(byTable), oldestHorizonHolder: known ? this.oldestHolder(holders) : undefined, unavailable };
  }
}

/** A DeadLetterFilter as the statements' four parameters: type, reason, failed before, failed after (ISO text; NULL for any). */
export function filterParams(filter: DeadLetterFilter): unknown[] {
  return [filter.type ?? null, filter.reason ?? null, filter.failedBefore?.toISOString() ?? null, filter.failedAfter?.toISOString() ?? null];
}
