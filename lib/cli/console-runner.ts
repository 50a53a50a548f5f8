/**
 * What the console commands share: their options and context, how a command is declared (--json,
 * exit codes), and how it runs: one store connection, an admin service on it, errors made the CLI's.
 */
import { HttpException } from '@nestjs/common';
import type { Command } from 'commander';
import { DoctorJobAdminService } from '../admin/admin.service';
import { InvalidArgumentError } from '../errors/invalid-argument.error';
import type { CliIo } from './command-options';
import type { DatabaseTarget, Dialect } from './database-url';
import { DoctorJobCliError, stateError, usageError } from './errors';
import { migrationStatus } from './migrations';
import { openStoreClient, type StoreClient } from './store-client';

export interface ConsoleOptions {
  url?: string;
  dialect?: Dialect;
  dotenv?: string;
  json?: boolean;
}

export interface ConsoleContext {
  io: CliIo;
  setExitCode(code: number): void;
  /** Adds --url, --dialect and --dotenv to a command. */
  withConnection(command: Command): Command;
  /** The database of --url / DATABASE_URL (after --dotenv). */
  target(options: ConsoleOptions): DatabaseTarget;
}

export const CONSOLE_EXIT_CODES = `
Exit codes:
  0  done
  1  nothing was changed: an id is not there, or a job is running (doctor: a
     check failed)
  2  the command could not run: a bad argument, no or bad URL, unreachable
     database, missing driver package`;

/** Declares a console command under `parent`: the connection options, --json, its help and the exit codes. */
export function consoleCommand(context: ConsoleContext) {
  const { withConnection } = context;
  return (parent: Command, name: string, description: string, help: string) =>
    withConnection(parent.command(name).description(description))
      .option('--json', 'print the result as JSON')
      .addHelpText('after', `${help ? `\n${help}\n` : ''}${CONSOLE_EXIT_CODES}`);
}

/** For commands without arguments that need the connection too (its dialect, its target). */
export function runWithConnection(context: ConsoleContext) {
  return (work: (admin: DoctorJobAdminService, options: ConsoleOptions, connection: StoreClient) => Promise<void>) => async (options: ConsoleOptions) =>
    withAdmin(context, options, (admin, connection) => work(admin, options, connection));
}

/** Opens the store, runs the command against an admin service on it, closes; turns the service's errors into the CLI's. */
async function withAdmin(context: ConsoleContext, options: ConsoleOptions, work: (admin: DoctorJobAdminService, connection: StoreClient) => Promise<void>): Promise<void> {
  const target = context.target(options);
  const connection = await openStoreClient(target);
  try {
    await work(new DoctorJobAdminService(connection), connection);
  } catch (error) {
    throw await cliError(error, connection);
  } finally {
    await connection.close();
  }
}

export function runWith<O>(context: ConsoleContext, work: (admin: DoctorJobAdminService, options: ConsoleOptions & O) => Promise<void>) {
  return (options: ConsoleOptions & O) => withAdmin(context, options, (admin) => work(admin, options));
}

/** For commands with arguments: commander passes them first, then the options. */
export function runWithArgs<A extends unknown[], O = object>(context: ConsoleContext, work: (admin: DoctorJobAdminService, options: ConsoleOptions & O, args: A) => Promise<void>) {
  return (...received: unknown[]) => {
    const args = received.slice(0, -2) as A; // commander adds the options and the command
    const options = received[received.length - 2] as ConsoleOptions & O;
    return withAdmin(context, options, (admin) => work(admin, options, args));
  };
}

/**
 * The admin service's errors as the CLI's: a bad argument exits 2, an id that is not there or a
 * running job exits 1 (nothing changed); a statement the database refuses because Doctor Job's
 * migrations are not applied says so.
 */
async function cliError(error: unknown, connection: StoreClient): Promise<unknown> {
  if (error instanceof DoctorJobCliError) return error;
  if (error instanceof InvalidArgumentError) return usageError(error.message);
  if (error instanceof HttpException) return stateError(error.message);
  const message = error instanceof Error ? error.message : '';
  if (/does not exist|no such (table|column)|doesn't exist|Unknown column/i.test(message)) {
    const status = await migrationStatus({ dialect: connection.dialect, query: (sql) => Promise.resolve(connection.client.$queryRawUnsafe<Record<string, unknown>[]>(sql)) }).catch(
      () => undefined,
    );
    if (status && !status.upToDate) {
      return stateError(`Doctor Job's migrations are not all applied to this database (pending: ${status.pending.join(', ')}): run npx doctor-job migrate`);
    }
  }
  return error;
}

export function integer(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw usageError(`${name} must be a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}

