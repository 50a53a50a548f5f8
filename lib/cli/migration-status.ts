import { firstLine, openConnection, quoteMysql, type SqlConnection } from './connection';
import { parseDatabaseUrl, type Dialect } from './database-url';
import { formatHistoryTime, HISTORY_TABLE, matchesChecksum } from './history';
import { DOCTOR_JOB_MIGRATION, shippedMigrations, type ShippedMigration } from './shipped-migrations';
import { existingTables } from './table-shapes';

/** Which of Doctor Job's migrations a database has: read from `_prisma_migrations` as Prisma Migrate writes it (reads only). */

export type MigrationState = 'applied' | 'pending' | 'failed' | 'modified';

export interface MigrationStatusEntry {
  name: string;
  state: MigrationState;
  /** When it finished (applied, modified) or started (failed), ISO-8601 UTC. */
  at?: string;
  /** The checksum in `_prisma_migrations` (applied, modified, failed). */
  recordedChecksum?: string;
  /** The checksum of the shipped file. */
  checksum: string;
  /** Failed: the logs Prisma Migrate (or doctor-job) wrote. */
  logs?: string;
  /** Pending: the tables it creates that already exist (migrate checks them and records the migration, or reports how they differ). */
  presentTables?: string[];
}

export interface MigrationStatus {
  dialect: Dialect;
  /** Whether `_prisma_migrations` exists. */
  historyTable: boolean;
  migrations: MigrationStatusEntry[];
  /** Names of the migrations not applied (pending or failed), oldest first. */
  pending: string[];
  /** Doctor Job migrations recorded as applied that this version does not ship (applied by a newer Doctor Job?). */
  unknown: string[];
  /** Every shipped migration is applied with its checksum. */
  upToDate: boolean;
}

/**
 * What migration status needs from a database: one statement without parameters, rows back. A
 * `doctor-job` connection fits, and so does a Prisma client:
 * `{ dialect: 'postgresql', query: (sql) => prisma.$queryRawUnsafe(sql) }`.
 */
export interface MigrationSource {
  dialect: Dialect;
  query(sql: string): Promise<Record<string, unknown>[]>;
}

export interface HistoryRow {
  id: string;
  name: string;
  checksum: string;
  finished: boolean;
  rolledBack: boolean;
  startedAt?: string;
  finishedAt?: string;
  logs?: string;
}

/**
 * Doctor Job's migrations in a database: applied, pending, failed or modified. Takes a database URL
 * (dialect from its scheme, or `options.dialect`) or something that runs SQL (see MigrationSource).
 * Reads only; creates nothing.
 */
export async function migrationStatus(source: string | MigrationSource, options: { dialect?: Dialect } = {}): Promise<MigrationStatus> {
  return withSource(source, options.dialect, async (db) => {
    const shipped = shippedMigrations(db.dialect);
    const history = await readHistory(db);
    const status = classify(db.dialect, shipped, history ?? []);
    status.historyTable = history !== undefined;
    for (const entry of status.migrations) {
      if (entry.state !== 'pending') continue;
      const migration = shipped.find((m) => m.name === entry.name)!;
      const present = await existingTablesOf(db, migration.creates);
      if (present.length) entry.presentTables = present;
    }
    return status;
  });
}

/** Names of Doctor Job's migrations not yet applied to a database (pending or failed), oldest first; empty when up to date. */
export async function pendingMigrations(source: string | MigrationSource, options: { dialect?: Dialect } = {}): Promise<string[]> {
  return withSource(source, options.dialect, async (db) => {
    const history = await readHistory(db);
    return classify(db.dialect, shippedMigrations(db.dialect), history ?? []).pending;
  });
}

/** The rows of `_prisma_migrations`, or undefined when the table does not exist. */
export async function readHistory(db: MigrationSource | SqlConnection): Promise<HistoryRow[] | undefined> {
  const exists: Record<Dialect, string> = {
    postgresql: `SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = '${HISTORY_TABLE}'`,
    mysql: `SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = '${HISTORY_TABLE}'`,
    sqlite: `SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '${HISTORY_TABLE}'`,
  };
  const [found] = await db.query(exists[db.dialect]);
  if (!Number(found?.n)) return undefined;
  const table = db.dialect === 'mysql' ? quoteMysql(HISTORY_TABLE) : `"${HISTORY_TABLE}"`;
  // Times as text, so that any driver (pg, mariadb, better-sqlite3, a Prisma client) returns the same.
  const text: Record<Dialect, (column: string) => string> = {
    postgresql: (column) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
    mysql: (column) => `CAST(${column} AS CHAR)`,
    sqlite: (column) => `CAST(${column} AS TEXT)`,
  };
  const rows = await db.query(
    `SELECT id, migration_name, checksum, logs, ${text[db.dialect]('started_at')} AS started_at, ${text[db.dialect]('finished_at')} AS finished_at,
            CASE WHEN finished_at IS NULL THEN 0 ELSE 1 END AS finished,
            CASE WHEN rolled_back_at IS NULL THEN 0 ELSE 1 END AS rolled_back
       FROM ${table} ORDER BY started_at`,
  );
  return rows.map((row) => ({
    id: String(row.id),
    name: String(row.migration_name),
    checksum: String(row.checksum),
    finished: Number(row.finished) === 1,
    rolledBack: Number(row.rolled_back) === 1,
    startedAt: formatHistoryTime(row.started_at),
    finishedAt: formatHistoryTime(row.finished_at),
    logs: row.logs === null || row.logs === undefined ? undefined : String(row.logs),
  }));
}

export function classify(dialect: Dialect, shipped: ShippedMigration[], history: HistoryRow[]): MigrationStatus {
  const live = history.filter((row) => !row.rolledBack);
  const migrations = shipped.map((migration): MigrationStatusEntry => {
    const rows = live.filter((row) => row.name === migration.name);
    const finished = rows.filter((row) => row.finished).at(-1);
    if (finished) {
      const state = matchesChecksum(migration.sql, finished.checksum) ? 'applied' : 'modified';
      return { name: migration.name, state, at: finished.finishedAt, recordedChecksum: finished.checksum, checksum: migration.checksum };
    }
    const failed = rows.at(-1);
    if (failed) {
      return { name: migration.name, state: 'failed', at: failed.startedAt, recordedChecksum: failed.checksum, checksum: migration.checksum, logs: failed.logs };
    }
    return { name: migration.name, state: 'pending', checksum: migration.checksum };
  });
  const names = new Set(shipped.map((m) => m.name));
  const unknown = [...new Set(live.filter((row) => row.finished && DOCTOR_JOB_MIGRATION.test(row.name) && !names.has(row.name)).map((row) => row.name))];
  const pending = migrations.filter((m) => m.state === 'pending' || m.state === 'failed').map((m) => m.name);
  return { dialect, historyTable: true, migrations, pending, unknown, upToDate: migrations.every((m) => m.state === 'applied') };
}

/** What is wrong with a failed or modified migration, and how to get out of it. */
export function describeProblem(dialect: Dialect, entry: MigrationStatusEntry): string {
  const now = dialect === 'postgresql' ? 'now()' : dialect === 'mysql' ? 'UTC_TIMESTAMP(3)' : `(strftime('%s','now') * 1000)`;
  if (entry.state === 'failed') {
    return (
      `${entry.name} failed when it was applied${entry.at ? ` (started ${entry.at})` : ''}${entry.logs ? `: ${firstLine(entry.logs)}` : ''}. ` +
      `Undo what it left half-done, then mark the attempt rolled back (UPDATE ${HISTORY_TABLE} SET rolled_back_at = ${now} ` +
      `WHERE migration_name = '${entry.name}' AND finished_at IS NULL) and run migrate again`
    );
  }
  return (
    `${entry.name} is recorded in ${HISTORY_TABLE} with checksum ${entry.recordedChecksum}, but the shipped migration.sql has ${entry.checksum}: ` +
    `the SQL applied is not the SQL this Doctor Job version ships. Compare the tables with the shipped file; migrate will not re-apply it`
  );
}

function existingTablesOf(db: MigrationSource | SqlConnection, tables: string[]): Promise<string[]> {
  const connection: Pick<SqlConnection, 'dialect' | 'query'> = {
    dialect: db.dialect,
    // MigrationSource takes no parameters: inline the (known, plain) table names.
    query: async <T>(sql: string, params: unknown[] = []) => {
      let i = 0;
      return (await db.query(sql.replace(/\?/g, () => `'${String(params[i++]).replace(/'/g, "''")}'`))) as T[];
    },
  };
  return existingTables(connection as SqlConnection, tables);
}

async function withSource<T>(source: string | MigrationSource, dialect: Dialect | undefined, work: (db: MigrationSource | SqlConnection) => Promise<T>): Promise<T> {
  if (typeof source !== 'string') return work(source);
  const connection = await openConnection(parseDatabaseUrl(source, dialect));
  try {
    return await work(connection);
  } finally {
    await connection.close();
  }
}

const list = (names: string[]) => names.join(', ');
