import { randomUUID } from 'node:crypto';
import { firstLine, openConnection, quoteMysql, quotePg, type SqlConnection } from './connection';
import { parseDatabaseUrl, type Dialect } from './database-url';
import { stateError } from './errors';
import { HISTORY_TABLE, HISTORY_TABLE_DDL, historyTime } from './history';
import { classify, describeProblem, readHistory } from './migration-status';
import { addedColumnsPresent, checkAlteredTables, checkPresentTables } from './present-tables';
import { shippedMigrations, type ShippedMigration } from './shipped-migrations';
import { existingTables } from './table-shapes';

/** `doctor-job migrate`: applies the shipped migrations not yet applied and records them as Prisma Migrate does (tables found present: present-tables.ts). */

export * from './migration-status';
export * from './shipped-migrations';

/** What `migrate` did with each migration. */
export interface MigrateOutcome {
  name: string;
  /** `applied`: its SQL ran and it was recorded; `recorded`: its tables were already there, identical, so only the record was written; `skipped`: already applied. */
  action: 'applied' | 'recorded' | 'skipped';
  ms?: number;
}

export interface MigrateOptions {
  dialect?: Dialect;
  /** Called once per migration as soon as it is done. */
  onOutcome?: (outcome: MigrateOutcome) => void;
}

/**
 * Applies Doctor Job's migrations that the database has not seen, oldest first, and records each in
 * `_prisma_migrations` as Prisma Migrate does (created with Prisma's DDL when missing), so that
 * `prisma migrate deploy` later finds them applied.
 *
 * - PostgreSQL and SQLite: each migration and its record commit in one transaction, or neither does.
 *   MariaDB commits DDL at once: the record is written as started, then finished, as Prisma does; a
 *   migration that fails half-way stays recorded as failed, with the error in `logs`.
 * - Instances running it at once take Prisma Migrate's lock (PostgreSQL advisory lock 72707369,
 *   MariaDB `GET_LOCK('prisma_migrate')`; SQLite: `BEGIN IMMEDIATE`), so one applies, the others find it done.
 * - A migration whose tables already exist is not run: when the tables have exactly the columns it
 *   makes, it is recorded as applied (`recorded`, like `prisma migrate resolve --applied`);
 *   otherwise migrate stops with a DoctorJobCliError (exit code 1) naming each column that differs.
 *   It never alters or drops an existing table.
 * - A failed or modified migration stops it before anything runs.
 */
export async function applyMigrations(source: string | SqlConnection, options: MigrateOptions = {}): Promise<MigrateOutcome[]> {
  const opened = typeof source === 'string' ? await openConnection(parseDatabaseUrl(source, options.dialect), { create: true }) : undefined;
  const connection = opened ?? (source as SqlConnection);
  try {
    return await migrate(connection, options.onOutcome ?? (() => undefined));
  } finally {
    await opened?.close();
  }
}

async function migrate(connection: SqlConnection, onOutcome: (outcome: MigrateOutcome) => void): Promise<MigrateOutcome[]> {
  const { dialect } = connection;
  const shipped = shippedMigrations(dialect);
  const outcomes: MigrateOutcome[] = [];
  const release = await lock(connection);
  try {
    // A Prisma URL's ?schema= names the schema; Prisma Migrate creates it when missing, and so does migrate.
    if (connection.target.dialect === 'postgresql' && connection.target.schema) await connection.exec(`CREATE SCHEMA IF NOT EXISTS ${quotePg(connection.target.schema)}`);
    await connection.exec(HISTORY_TABLE_DDL[dialect]);
    const status = classify(dialect, shipped, (await readHistory(connection)) ?? []);
    const problems = status.migrations.filter((m) => m.state === 'failed' || m.state === 'modified');
    if (problems.length) throw stateError(problems.map((m) => describeProblem(dialect, m)).join('\n'));
    for (const migration of shipped) {
      const outcome = await step(connection, shipped, migration);
      outcomes.push(outcome);
      onOutcome(outcome);
    }
    return outcomes;
  } finally {
    await release();
  }
}

/**
 * Decides on one migration and carries it out: skip it, apply it, record it, or stop. On SQLite
 * the decision and the work share one write transaction (BEGIN IMMEDIATE), since no lock spans the
 * run there: a process that finds the tables made by another one a moment ago must not record them twice.
 */
async function step(connection: SqlConnection, shipped: ShippedMigration[], migration: ShippedMigration): Promise<MigrateOutcome> {
  const { dialect } = connection;
  const sqlite = dialect === 'sqlite';
  if (sqlite) await connection.exec('BEGIN IMMEDIATE');
  try {
    const [entry] = classify(dialect, [migration], (await readHistory(connection)) ?? []).migrations;
    let outcome: MigrateOutcome;
    if (entry.state === 'applied') {
      outcome = { name: migration.name, action: 'skipped' };
    } else if (entry.state !== 'pending') {
      throw stateError(describeProblem(dialect, entry));
    } else {
      const present = await existingTables(connection, migration.creates);
      if (present.length === 0 && (await addedColumnsPresent(connection, migration))) {
        // A migration that adds columns, found there already (the SQL was run by hand): recorded if the tables are as it leaves them.
        await checkAlteredTables(connection, shipped, migration);
        await record(connection, migration);
        outcome = { name: migration.name, action: 'recorded' };
      } else if (present.length === 0) {
        const started = Date.now();
        await apply(connection, migration, !sqlite);
        outcome = { name: migration.name, action: 'applied', ms: Date.now() - started };
      } else {
        await checkPresentTables(connection, shipped, migration, present);
        await record(connection, migration);
        outcome = { name: migration.name, action: 'recorded' };
      }
    }
    if (sqlite) await connection.exec('COMMIT');
    return outcome;
  } catch (error) {
    if (sqlite) await connection.exec('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Runs one migration and records it. PostgreSQL: in a transaction of its own; SQLite: inside the
 * caller's (ownTransaction false); MariaDB: no transaction can hold DDL, so Prisma Migrate's
 * started / finished records.
 */
async function apply(connection: SqlConnection, migration: ShippedMigration, ownTransaction: boolean): Promise<void> {
  const { dialect } = connection;
  const table = dialect === 'mysql' ? quoteMysql(HISTORY_TABLE) : `"${HISTORY_TABLE}"`;
  const id = randomUUID();
  if (dialect === 'mysql') {
    await connection.query(`INSERT INTO ${table} (id, checksum, started_at, migration_name) VALUES (?, ?, ?, ?)`, [
      id,
      migration.checksum,
      historyTime(dialect, new Date()),
      migration.name,
    ]);
    try {
      await connection.exec(migration.sql);
    } catch (error) {
      const message = firstLine((error as Error).message);
      await connection.query(`UPDATE ${table} SET logs = ? WHERE id = ?`, [message, id]).catch(() => undefined);
      throw stateError(
        `${migration.name} failed on MariaDB: ${message}. MariaDB commits each DDL statement at once, so the statements before the error stay applied; ` +
          `it is recorded as failed in ${HISTORY_TABLE} (id ${id}). Undo what it created, then mark the attempt rolled back ` +
          `(UPDATE ${HISTORY_TABLE} SET rolled_back_at = UTC_TIMESTAMP(3) WHERE id = '${id}') and run migrate again`,
      );
    }
    await connection.query(`UPDATE ${table} SET finished_at = ?, applied_steps_count = applied_steps_count + 1 WHERE id = ?`, [
      historyTime(dialect, new Date()),
      id,
    ]);
    return;
  }

  if (ownTransaction) await connection.exec('BEGIN');
  try {
    const startedAt = new Date();
    await connection.exec(migration.sql);
    await connection.query(
      `INSERT INTO ${table} (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count) VALUES (?, ?, ?, ?, NULL, NULL, ?, 1)`,
      [id, migration.checksum, historyTime(dialect, new Date()), migration.name, historyTime(dialect, startedAt)],
    );
    if (ownTransaction) await connection.exec('COMMIT');
  } catch (error) {
    if (ownTransaction) await connection.exec('ROLLBACK').catch(() => undefined);
    throw stateError(`${migration.name} failed and was rolled back, nothing of it is applied: ${firstLine((error as Error).message)}`);
  }
}

/** Records a migration whose tables are already there, as `prisma migrate resolve --applied` does. */
async function record(connection: SqlConnection, migration: ShippedMigration): Promise<void> {
  const { dialect } = connection;
  const table = dialect === 'mysql' ? quoteMysql(HISTORY_TABLE) : `"${HISTORY_TABLE}"`;
  const now = historyTime(dialect, new Date());
  await connection.query(`INSERT INTO ${table} (id, checksum, logs, started_at, finished_at, migration_name) VALUES (?, ?, '', ?, ?, ?)`, [
    randomUUID(),
    migration.checksum,
    now,
    now,
    migration.name,
  ]);
}

/** Takes Prisma Migrate's lock for the run; returns its release. */
async function lock(connection: SqlConnection): Promise<() => Promise<void>> {
  if (connection.dialect === 'postgresql') {
    // The key Prisma Migrate uses, so doctor-job and `prisma migrate deploy` never run at once.
    await connection.exec(`SET lock_timeout = '60s'`);
    try {
      await connection.query('SELECT pg_advisory_lock(72707369)');
    } catch (error) {
      throw stateError(`another migration has held the migration lock for 60 s (${firstLine((error as Error).message)}): try again when it is done`);
    }
    await connection.exec('RESET lock_timeout');
    return async () => {
      await connection.query('SELECT pg_advisory_unlock(72707369)').catch(() => undefined);
    };
  }
  if (connection.dialect === 'mysql') {
    const [row] = await connection.query<{ got: unknown }>(`SELECT GET_LOCK('prisma_migrate', 60) AS got`);
    if (Number(row?.got) !== 1) throw stateError('another migration has held the migration lock (GET_LOCK prisma_migrate) for 60 s: try again when it is done');
    return async () => {
      await connection.query(`SELECT RELEASE_LOCK('prisma_migrate')`).catch(() => undefined);
    };
  }
  return async () => undefined;
}
