/**
 * The migration commands of `doctor-job`: migrate (apply), status (read only) and sql (print or
 * copy the migrations' SQL), with how they open the database and pick the dialect.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { dialectOption, EXIT_CODES, loadEnvFile, packageVersion, withConnection, type CliIo, type ConnectionOptions } from './command-options';
import { openConnection, openSqliteDatabase, sqliteConnection, type SqlConnection } from './connection';
import { DIALECT_LABEL, dialectOfUrl, parseDatabaseUrl, parseDialect, redact, type DatabaseTarget, type Dialect } from './database-url';
import { usageError } from './errors';
import { HISTORY_TABLE } from './history';
import { applyMigrations, describeProblem, migrationStatus, type MigrateOutcome } from './migrations';
import { copyMigrations, lockedProvider, migrationsSql } from './sql';

/** Registers migrate, status and sql on the program. */
export function registerMigrationCommands(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  withConnection(
    program
      .command('migrate')
      .description("apply Doctor Job's migrations the database has not seen, oldest first, and record each in _prisma_migrations"),
  )
    .addHelpText(
      'after',
      `
PostgreSQL and SQLite: each migration commits in one transaction with its
_prisma_migrations record, all of it or nothing. MariaDB commits each DDL
statement at once, so no transaction can hold a migration: as Prisma Migrate
does, the record is written as started, then as finished; a migration that
fails half-way leaves what ran before the error, and stays recorded as failed
(the error in its logs) until you mark it rolled back.

Running migrate again changes nothing. Existing tables are never altered or
dropped: when the tables a migration creates already exist with exactly the
columns it makes, the migration is only recorded ("already present,
recorded"); when they differ, migrate names each differing column and exits 1.
A migration recorded with another checksum, or recorded as failed, is reported
and nothing runs.

The records are Prisma Migrate's own (id, checksum: SHA-256 of migration.sql,
started_at, finished_at, applied_steps_count), in the table Prisma would create,
so \`prisma migrate deploy\` sees these migrations as applied. migrate takes
Prisma Migrate's lock: app instances can run it at once.
${EXIT_CODES}`,
    )
    .action(async (options: ConnectionOptions) => {
      const connection = await connect(options, true);
      try {
        io.out(`${DIALECT_LABEL[connection.dialect]} ${connection.target.display}\n`);
        const outcomes = await applyMigrations(connection, { onOutcome: (outcome) => io.out(describeOutcome(outcome)) });
        const applied = outcomes.filter((o) => o.action === 'applied').length;
        const recorded = outcomes.filter((o) => o.action === 'recorded').length;
        if (applied + recorded === 0) io.out(`Nothing to do: ${count(outcomes.length, 'Doctor Job migration')} already applied.\n`);
        else io.out(`Done: ${[applied && `${applied} applied`, recorded && `${recorded} recorded`].filter(Boolean).join(', ')}; Doctor Job's tables are up to date.\n`);
      } finally {
        await connection.close();
      }
    });

  withConnection(
    program.command('status').description("list Doctor Job's migrations applied to the database and those pending; exit code 1 when any is pending"),
  )
    .option('--json', 'print the status as JSON')
    .addHelpText(
      'after',
      `
Reads only: creates nothing, not even _prisma_migrations or a SQLite file.
Failed and edited migrations count as not applied (exit code 1). In a deploy
script, \`npx doctor-job migrate\` alone is enough: it does nothing when
everything is applied.
${EXIT_CODES}`,
    )
    .action(async (options: ConnectionOptions & { json?: boolean }) => {
      const connection = await connect(options, false);
      try {
        const status = await migrationStatus(connection);
        const noFile = connection.target.dialect === 'sqlite' && !existsSync(connection.target.file);
        const bad = status.migrations.filter((m) => m.state !== 'applied');
        if (options.json) {
          io.out(`${JSON.stringify(status, null, 2)}\n`);
        } else {
          io.out(`Doctor Job migrations on ${DIALECT_LABEL[status.dialect]} ${connection.target.display}:\n`);
          const width = Math.max(...status.migrations.map((m) => m.name.length));
          for (const m of status.migrations) {
            const note =
              m.state === 'applied'
                ? (m.at ?? '')
                : m.state === 'pending' && m.presentTables
                  ? `its tables exist (${m.presentTables.join(', ')}) but it is not recorded: migrate checks them and records it`
                  : '';
            io.out(`  ${m.state.padEnd(9)}${m.name.padEnd(width + 2)}${note}\n`.replace(/\s+\n$/, '\n'));
          }
          for (const name of status.unknown) io.out(`  note: ${name} is recorded as applied but not shipped by doctor-job ${packageVersion()} (a newer version applied it?)\n`);
          if (noFile) io.out(`(no file ${connection.target.file} yet: migrate creates it)\n`);
          else if (!status.historyTable) io.out(`(no ${HISTORY_TABLE} table: nothing has been recorded in this database yet)\n`);
          for (const m of status.migrations.filter((m) => m.state === 'failed' || m.state === 'modified')) io.out(`${describeProblem(status.dialect, m)}\n`);
          const pending = status.migrations.filter((m) => m.state === 'pending').length;
          if (bad.length === 0) io.out(`Up to date: ${count(status.migrations.length, 'migration')} applied.\n`);
          else if (pending) io.out(`${pending} of ${status.migrations.length} pending: run npx doctor-job migrate\n`);
        }
        setExitCode(bad.length ? 1 : 0);
      } finally {
        await connection.close();
      }
    });

  program
    .command('sql')
    .description("print the SQL of Doctor Job's migrations, or copy their folders into the app's Prisma Migrate folder")
    .addOption(dialectOption('postgresql, mysql (MariaDB) or sqlite; by default from --url / DATABASE_URL, or the --into folder\'s migration_lock.toml'))
    .option('--url <url>', 'take the dialect from this URL\'s scheme (default: $DATABASE_URL); nothing connects')
    .option('--into <folder>', 'copy the migration folders into this Prisma Migrate folder (e.g. prisma/migrations) instead of printing')
    .option('--dotenv <file>', 'read environment variables (e.g. DATABASE_URL) from this .env file first')
    .addHelpText(
      'after',
      `
For teams that run their own migration tool, or keep every migration in their
own prisma/migrations: with \`prisma migrate dev\`, copy them there, since
migrate dev takes migrations recorded in _prisma_migrations but missing from
the folder for drift.

Printing writes every migration.sql to stdout, oldest first, each headed by a
comment with its folder name. --into copies the <timestamp>_doctor_job*
folders; a migration.sql already there with the same content is left alone,
one with other content is never overwritten (then nothing is copied, exit
code 1).
${EXIT_CODES}`,
    )
    .action(async (options: ConnectionOptions & { into?: string }) => {
      loadEnvFile(options.dotenv);
      const dialect = sqlDialect(options);
      if (!options.into) {
        io.out(migrationsSql(dialect));
        return;
      }
      const result = copyMigrations(dialect, options.into);
      for (const name of result.copied) io.out(`copied     ${join(options.into, name, 'migration.sql')}\n`);
      for (const name of result.unchanged) io.out(`unchanged  ${join(options.into, name, 'migration.sql')} (already there, same content)\n`);
      io.out(`${result.copied.length} copied, ${result.unchanged.length} already there (${dialect}).\n`);
    });
}

/**
 * Opens the database of --url / DATABASE_URL. For `status` (create false) a SQLite file that does
 * not exist yet reads as an empty database (everything pending), and is not created.
 */
async function connect(options: ConnectionOptions, create: boolean): Promise<SqlConnection> {
  loadEnvFile(options.dotenv);
  const target: DatabaseTarget = parseDatabaseUrl(options.url ?? process.env.DATABASE_URL, options.dialect);
  if (target.dialect === 'sqlite' && !create && !existsSync(target.file)) {
    return sqliteConnection(target, openSqliteDatabase(':memory:'));
  }
  return openConnection(target, { create });
}

function sqlDialect(options: ConnectionOptions & { into?: string }): Dialect {
  if (options.dialect) return options.dialect;
  const url = options.url ?? process.env.DATABASE_URL;
  if (url) {
    const dialect = dialectOfUrl(url.trim());
    if (!dialect) throw usageError(`cannot tell the dialect from the URL "${redact(url)}": pass --dialect postgresql, mysql or sqlite`);
    return dialect;
  }
  const provider = options.into ? lockedProvider(resolve(options.into)) : undefined;
  if (provider) return parseDialect(provider);
  throw usageError('which dialect? pass --dialect postgresql, mysql (MariaDB) or sqlite (or --url / DATABASE_URL)');
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

function describeOutcome(outcome: MigrateOutcome): string {
  if (outcome.action === 'applied') return `applied   ${outcome.name} (${outcome.ms} ms)\n`;
  if (outcome.action === 'recorded') return `recorded  ${outcome.name} (already present, recorded: its tables exist and match the migration)\n`;
  return `ok        ${outcome.name} (already applied)\n`;
}

