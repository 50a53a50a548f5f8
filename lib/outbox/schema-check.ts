import { Injectable } from '@nestjs/common';
import type { SqlConnection } from '../cli/connection';
import { migrationStatus, shippedMigrations } from '../cli/migrations';
import { existingTables } from '../cli/table-shapes';
import { SCHEMA_JOB_TABLE_PARTITIONED, SCHEMA_MIGRATIONS_PENDING, SCHEMA_TABLES_MISSING } from '../doctor-job.messages';
import { JobStoreHost } from '../store/job-store.host';

/**
 * Whether the database has Doctor Job's tables and migrations, so that a missing migration is
 * named (with the command that fixes it) instead of surfacing as Prisma's raw "relation does not
 * exist". Checked at bootstrap (the runner does not start on a problem) and again whenever an
 * enqueue fails; the hot path pays nothing while the schema is fine.
 *
 * A problem is: a table that a shipped migration creates is missing; or, when Doctor Job's
 * migrations are recorded in `_prisma_migrations` (doctor-job migrate, Prisma Migrate), one of
 * them is not applied. (Teams that apply the SQL with a tool of their own have no such record:
 * then only the tables are checked.) On PostgreSQL, doctor_job must not be partitioned: the claim
 * reads the rows it locked by their ctid (postgresql.runner.sql.ts).
 */
@Injectable()
export class SchemaCheck {
  private checked?: Promise<string | undefined>;

  constructor(private readonly host: JobStoreHost) {}

  /** The problem, in one line that names `npx doctor-job migrate`; undefined when the schema is fine. Checked once. */
  problem(): Promise<string | undefined> {
    this.checked ??= this.run();
    return this.checked;
  }

  /** Checks again (after a failed statement: the schema may have changed since). */
  recheck(): Promise<string | undefined> {
    this.checked = undefined;
    return this.problem();
  }

  private async run(): Promise<string | undefined> {
    const { store, prisma } = this.host;
    const dialect = store.dialect;
    const query = <T>(sql: string, params: unknown[] = []): Promise<T[]> => {
      let n = 0;
      const text = dialect === 'postgresql' ? sql.replace(/\?/g, () => `$${++n}`) : sql;
      // The store's own connections where it has them: no query through Prisma in a worker that needs none.
      if (store.inspect) return store.inspect(text, params) as Promise<T[]>;
      return Promise.resolve(prisma.$queryRawUnsafe<T[]>(text, ...params));
    };
    const tables = [...new Set(shippedMigrations(dialect).flatMap((migration) => migration.creates))];
    const present = await existingTables({ dialect, query } as SqlConnection, tables);
    const missing = tables.filter((table) => !present.includes(table));
    if (missing.length) return SCHEMA_TABLES_MISSING(missing);
    if (dialect === 'postgresql') {
      // The table the claim names, as its search_path finds it.
      const [table] = await query<{ kind: string }>(`SELECT "relkind"::text AS "kind" FROM pg_class WHERE "oid" = to_regclass('"doctor_job"')`);
      if (table?.kind === 'p') return SCHEMA_JOB_TABLE_PARTITIONED;
    }
    const status = await migrationStatus({ dialect, query: (sql) => query<Record<string, unknown>>(sql) });
    const recorded = status.migrations.some((entry) => entry.state !== 'pending');
    if (recorded && status.pending.length) return SCHEMA_MIGRATIONS_PENDING(status.pending);
    return undefined;
  }
}
