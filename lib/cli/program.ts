/**
 * The `doctor-job` command line: the commander program (help, version, output, exit codes) and
 * how an error becomes an exit code. The commands: migration-commands.ts and admin-commands.ts.
 */
import { Command, CommanderError } from 'commander';
import { registerConsoleCommands, type ConsoleOptions } from './admin-commands';
import { EXIT_CODES, loadEnvFile, packageVersion, withConnection, type CliIo } from './command-options';
import { firstLine } from './connection';
import { parseDatabaseUrl } from './database-url';
import { DoctorJobCliError } from './errors';
import { registerMigrationCommands } from './migration-commands';

export type { CliIo } from './command-options';

const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

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

  registerMigrationCommands(program, io, setExitCode);

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

