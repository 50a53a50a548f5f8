import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { firstLine, openConnection, openSqliteDatabase, sqliteConnection, type SqlConnection } from './connection';
import { DIALECT_LABEL, dialectOfUrl, parseDatabaseUrl, parseDialect, redact, type DatabaseTarget, type Dialect } from './database-url';
import { registerConsoleCommands, type ConsoleOptions } from './admin-commands';
import { DoctorJobCliError, usageError } from './errors';
import { HISTORY_TABLE } from './history';
import { applyMigrations, describeProblem, migrationStatus, type MigrateOutcome } from './migrations';
import { copyMigrations, lockedProvider, migrationsSql } from './sql';

interface ConnectionOptions {
  url?: string;
  dialect?: Dialect;
  dotenv?: string;
}

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

const EXIT_CODES = `
Exit codes:
  0  done (status: every Doctor Job migration is applied)
  1  the database needs attention: a migration pending (status), failed or
     edited, or Doctor Job tables that differ from the migrations
  2  the command could not run: no or bad URL, unknown dialect, unreachable
     database, missing driver package (pg, mariadb or better-sqlite3)`;

/** The `doctor-job` command line. Returns the exit code. */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(io, (code) => (exitCode = code));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2; // commander printed it (help, version, usage)
    if (error instanceof DoctorJobCliError) {
      io.err(`doctor-job: ${error.message}\n`);
      return error.exitCode;
    }
    if (isDatabaseError(error)) {
      // The database refused a statement (a missing privilege, a lock timeout…): its message says why.
      io.err(`doctor-job: the database refused a statement: ${firstLine(error.message)}${error.code ? ` (${error.code})` : ''}\n`);
      return 1;
    }
    io.err(`doctor-job: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

/** An error the driver raised for the database (pg: a SQLSTATE code; mariadb: sqlState; better-sqlite3: SQLITE_*). */
function isDatabaseError(error: unknown): error is Error & { code?: string } {
  if (!(error instanceof Error)) return false;
  const e = error as Error & { code?: unknown; sqlState?: unknown };
  return typeof e.sqlState === 'string' || (typeof e.code === 'string' && (/^[0-9A-Z]{5}$/.test(e.code) || e.code.startsWith('SQLITE_') || e.code.startsWith('ER_')));
}

function buildProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command('doctor-job')
    .description(
      "Doctor Job's database migrations, applied without Prisma's schema engine and recorded in _prisma_migrations as Prisma Migrate records them; " +
        'and the operator\'s console: the queue and the dead letters (stats, jobs, dead-letters, pause, resume) and a diagnosis of the tables (doctor).',
    )
    .version(packageVersion(), '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .helpCommand('help [command]', 'show help for a command')
    .configureOutput({
      writeOut: io.out,
      writeErr: io.err,
      // One line per error: commander puts its "(Did you mean …?)" on a line of its own.
      outputError: (text, write) => write(text.replace(/\n(?=\(Did you mean)/, ' ')),
    })
    .exitOverride()
    .addHelpText(
      'after',
      `
The database URL comes from --url or DATABASE_URL, the dialect from its scheme:
  postgresql://user:password@host:5432/db[?schema=s]  PostgreSQL (driver: pg)
  mysql://user:password@host:3306/db, or mariadb://  MariaDB 10.6+ (mariadb)
  file:./dev.db, from the current directory          SQLite (better-sqlite3)
Only the driver of that dialect is loaded; install it beside doctor-job if the
app does not have it yet.
${EXIT_CODES}`,
    );

  const withConnection = (command: Command) =>
    command
      .option('--url <url>', 'database URL (default: $DATABASE_URL)')
      .addOption(dialectOption('postgresql, mysql (MariaDB) or sqlite; by default the URL scheme says'))
      .option('--dotenv <file>', 'read environment variables (e.g. DATABASE_URL) from this .env file first');

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

  registerConsoleCommands(program, {
    io,
    setExitCode,
    withConnection,
    target: (options: ConsoleOptions) => {
      loadEnvFile(options.dotenv);
      return parseDatabaseUrl(options.url ?? process.env.DATABASE_URL, options.dialect);
    },
  });

  return program;
}

function dialectOption(description: string): Option {
  return new Option('--dialect <dialect>', description).argParser((value: string) => {
    try {
      return parseDialect(value);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
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

/** `--dotenv` (not `--env-file`: Node 20 takes that flag for itself even after the script's name). */
function loadEnvFile(file: string | undefined): void {
  if (!file) return;
  if (!existsSync(file)) throw usageError(`--dotenv ${file}: no such file`);
  try {
    process.loadEnvFile(file);
  } catch (error) {
    throw usageError(`--dotenv ${file}: ${(error as Error).message}`);
  }
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

function describeOutcome(outcome: MigrateOutcome): string {
  if (outcome.action === 'applied') return `applied   ${outcome.name} (${outcome.ms} ms)\n`;
  if (outcome.action === 'recorded') return `recorded  ${outcome.name} (already present, recorded: its tables exist and match the migration)\n`;
  return `ok        ${outcome.name} (already applied)\n`;
}

function packageVersion(): string {
  try {
    return JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).version as string;
  } catch {
    return 'unknown';
  }
}
