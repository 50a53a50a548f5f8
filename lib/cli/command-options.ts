/**
 * What every `doctor-job` command shares: the terminal (CliIo), the connection options (--url,
 * --dialect, --dotenv), the migration commands' exit codes and the package version.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseDialect, type Dialect } from './database-url';
import { usageError } from './errors';

export interface ConnectionOptions {
  url?: string;
  dialect?: Dialect;
  dotenv?: string;
}

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export const EXIT_CODES = `
Exit codes:
  0  done (status: every Doctor Job migration is applied)
  1  the database needs attention: a migration pending (status), failed or
     edited, or Doctor Job tables that differ from the migrations
  2  the command could not run: no or bad URL, unknown dialect, unreachable
     database, missing driver package (pg, mariadb or better-sqlite3)`;

/** Adds --url, --dialect and --dotenv to a command. */
export const withConnection = (command: Command) =>
  command
    .option('--url <url>', 'database URL (default: $DATABASE_URL)')
    .addOption(dialectOption('postgresql, mysql (MariaDB) or sqlite; by default the URL scheme says'))
    .option('--dotenv <file>', 'read environment variables (e.g. DATABASE_URL) from this .env file first');

export function dialectOption(description: string): Option {
  return new Option('--dialect <dialect>', description).argParser((value: string) => {
    try {
      return parseDialect(value);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  });
}

/** `--dotenv` (not `--env-file`: Node 20 takes that flag for itself even after the script's name). */
export function loadEnvFile(file: string | undefined): void {
  if (!file) return;
  if (!existsSync(file)) throw usageError(`--dotenv ${file}: no such file`);
  try {
    process.loadEnvFile(file);
  } catch (error) {
    throw usageError(`--dotenv ${file}: ${(error as Error).message}`);
  }
}

export function packageVersion(): string {
  try {
    return JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).version as string;
  } catch {
    return 'unknown';
  }
}
