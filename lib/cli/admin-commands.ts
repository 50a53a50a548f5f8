/**
 * The operator's console on the command line: stats, jobs, dead-letters, pause/resume and doctor.
 * Each command opens one connection (the dialect's plain driver), builds the app's own JobStore
 * on it (store-client.ts), and calls DoctorJobAdminService, as a dashboard would: the CLI has no
 * SQL of its own. Readable tables by default, `--json` for scripts.
 */
import { HttpException } from '@nestjs/common';
import type { Command } from 'commander';
import { DoctorJobAdminService } from '../admin/admin.service';
import type { AdminStats, DeadLetterBulkMatch, DeadLetterDetail, DeadLetterMatch, JobDetail, Page } from '../admin/admin.types';
import { ago, type DoctorReport, type Verdict } from '../admin/doctor';
import { InvalidArgumentError } from '../errors/invalid-argument.error';
import { DEAD_LETTER_REASONS, JOB_STATES, type DeadLetter, type JobAttempt, type QueuedJob } from '../store/job-store.interface';
import type { DatabaseTarget, Dialect } from './database-url';
import { DoctorJobCliError, stateError, usageError } from './errors';
import { migrationStatus } from './migrations';
import { block, cell, fields, json, relative, table } from './output';
import type { CliIo } from './program';
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

const TIME_HELP = 'a time (ISO-8601, e.g. 2026-12-01T08:00:00Z) or an age (30s, 15m, 12h, 7d: that long ago)';

/** Registers the console commands on the program. */
export function registerConsoleCommands(program: Command, context: ConsoleContext): void {
  const { io, withConnection } = context;
  const command = (parent: Command, name: string, description: string, help: string) =>
    withConnection(parent.command(name).description(description))
      .option('--json', 'print the result as JSON')
      .addHelpText('after', `${help ? `\n${help}\n` : ''}${CONSOLE_EXIT_CODES}`);
  const run = (work: (admin: DoctorJobAdminService, options: ConsoleOptions, connection: StoreClient) => Promise<void>) => async (options: ConsoleOptions) =>
    withAdmin(context, options, (admin, connection) => work(admin, options, connection));

  command(program, 'stats', 'the queue per job type: due, scheduled, running, paused, dead letters, age of the oldest due job', '').action(
    run(async (admin, options) => {
      const stats = await admin.stats();
      io.out(options.json ? json(stats) : statsTable(stats));
    }),
  );

  const jobs = program.command('jobs').description('jobs in the queue: list, show, cancel, run now');
  command(
    jobs,
    'list',
    'jobs in the queue, oldest first, by state, type and keys',
    `States (the database's clock): due (its time has come), scheduled (delayed, or
waiting to retry), running (held by a worker: HELD BY names the instance).`,
  )
    .option('--state <state>', `only jobs in this state: ${JOB_STATES.join(', ')}`)
    .option('--type <type>', 'only jobs of this type')
    .option('--ordering-key <key>', 'only jobs with this ordering key')
    .option('--dedup-key <key>', 'only the job with this dedup key')
    .option('--limit <n>', 'jobs per page, 1 to 500 (default 50)')
    .option('--cursor <id>', 'the next page: the cursor the previous page printed')
    .action(
      runWith<{ state?: string; type?: string; orderingKey?: string; dedupKey?: string; limit?: string; cursor?: string }>(context, async (admin, options) => {
        const page = await admin.listJobs({ ...options, state: options.state as never, limit: integer(options.limit, '--limit') });
        io.out(options.json ? json(page) : jobsTable(page));
      }),
    );

  command(jobs, 'show', 'one job in full: payload, attempts and their errors, run at, lease, keys', '')
    .argument('<id>', 'the job id')
    .action(
      runWithArgs<[string]>(context, async (admin, options, [id]) => {
        const job = await admin.getJob(id);
        io.out(options.json ? json(job) : jobDetail(job));
      }),
    );

  command(
    jobs,
    'cancel',
    'cancel queued jobs: each becomes a dead letter with reason "cancelled" (replay it to undo)',
    `All or nothing, in one transaction: when an id is not in the queue, or a job
is running (held by a worker under a live lease), nothing is cancelled (exit
code 1). Wait for a running attempt to end, or pause the type first.`,
  )
    .argument('<id...>', 'job ids')
    .option('--message <text>', 'the dead letters\' error text (default "Cancelled by an operator")')
    .action(
      runWithArgs<[string[]], { message?: string }>(context, async (admin, options, [ids]) => {
        const result = await admin.cancelJobs(ids, { message: options.message });
        io.out(options.json ? json(result) : `Cancelled ${plural(result.count, 'job')}: ${result.jobIds.join(', ')} (now dead letters with reason "cancelled").\n`);
      }),
    );

  command(
    jobs,
    'run-now',
    'make scheduled jobs (delayed, or waiting to retry) due now',
    `All or nothing, as cancel. A job already due is left as it is; a job behind
an earlier one of its ordering key still waits for it.`,
  )
    .argument('<id...>', 'job ids')
    .action(
      runWithArgs<[string[]]>(context, async (admin, options, [ids]) => {
        const result = await admin.runJobsNow(ids);
        if (options.json) return io.out(json(result));
        io.out(`Made ${plural(result.count, 'job')} due now${result.count ? `: ${result.jobIds.join(', ')}` : ''}.\n`);
        if (result.alreadyDue.length) io.out(`Already due: ${result.alreadyDue.join(', ')}.\n`);
      }),
    );

  const letters = program.command('dead-letters').description('dead letters: list, show, replay, delete');
  const withFilter = (c: Command) =>
    c
      .option('--type <type>', 'dead letters of this job type')
      .option('--reason <reason>', `dead letters with this reason: ${DEAD_LETTER_REASONS.join(', ')}`)
      .option('--failed-before <time>', `that failed before ${TIME_HELP}`)
      .option('--failed-after <time>', `that failed at or after ${TIME_HELP}`);

  withFilter(command(letters, 'list', 'dead letters, newest first, by type, reason and failure time', ''))
    .option('--limit <n>', 'dead letters per page, 1 to 500 (default 50)')
    .option('--cursor <id>', 'the next page: the cursor the previous page printed')
    .action(
      runWith<FilterOptions & { limit?: string; cursor?: string }>(context, async (admin, options) => {
        const page = await admin.listDeadLetters({ ...filterOf(options), limit: integer(options.limit, '--limit'), cursor: options.cursor });
        io.out(options.json ? json(page) : deadLettersTable(page));
      }),
    );

  command(letters, 'show', 'one dead letter in full: payload, error and stack, and every failed attempt of its job', '')
    .argument('<id>', 'the dead letter id')
    .action(
      runWithArgs<[string]>(context, async (admin, options, [id]) => {
        const letter = await admin.getDeadLetter(id);
        io.out(options.json ? json(letter) : deadLetterDetail(letter));
      }),
    );

  const bulkHelp = (verb: string) => `Give dead letter ids, or a filter (--type, --reason, --failed-before,
--failed-after; every one given must match), or --all. One transaction: all
of them are ${verb}, or none. Unknown ids change nothing (exit code 1).`;

  withFilter(command(letters, 'replay', 'put dead letters back in the queue, due now, with fresh attempts (their history stays with them)', bulkHelp('replayed')))
    .argument('[id...]', 'dead letter ids')
    .option('--all', 'every dead letter')
    .action(
      runWithArgs<[string[]], FilterOptions & { all?: boolean }>(context, async (admin, options, [ids]) => {
        const result = ids.length ? (noFilter(options), await admin.replayDeadLetters(ids)) : await admin.replayDeadLettersWhere(bulkOf(options));
        io.out(options.json ? json(result) : `Replayed ${plural(result.count, 'dead letter')}${result.count ? `; new job ids: ${result.jobIds.join(', ')}` : ''}.\n`);
      }),
    );

  withFilter(command(letters, 'delete', 'delete dead letters for good, with their attempt history', bulkHelp('deleted')))
    .argument('[id...]', 'dead letter ids')
    .option('--all', 'every dead letter')
    .action(
      runWithArgs<[string[]], FilterOptions & { all?: boolean }>(context, async (admin, options, [ids]) => {
        const result = ids.length ? (noFilter(options), await admin.deleteDeadLetters(ids)) : await admin.deleteDeadLettersWhere(bulkOf(options));
        io.out(options.json ? json(result) : `Deleted ${plural(result.count, 'dead letter')}.\n`);
      }),
    );

  const pauseHelp = `Kept in the database (doctor_job_paused_type), so it holds for every instance
and across restarts. Runners read the paused types once per poll interval: a
paused type is not claimed from one poll interval on (a job running now
finishes), and its jobs stay queued; a resumed type is claimed again as soon.`;
  command(program, 'pause', 'pause a job type for every instance: no runner claims it, its jobs stay queued', pauseHelp)
    .argument('<type>', 'the job type')
    .action(
      runWithArgs<[string]>(context, async (admin, options, [type]) => {
        const result = await admin.pause(type);
        io.out(options.json ? json(result) : `${result.changed ? 'Paused' : 'Already paused:'} ${cell(type)}: no runner claims it from its next poll on; its jobs stay queued.\n`);
      }),
    );
  command(program, 'resume', 'resume a paused job type', pauseHelp)
    .argument('<type>', 'the job type')
    .action(
      runWithArgs<[string]>(context, async (admin, options, [type]) => {
        const result = await admin.resume(type);
        io.out(options.json ? json(result) : result.changed ? `Resumed ${cell(type)}: runners claim it again from their next poll.\n` : `${cell(type)} was not paused.\n`);
      }),
    );

  command(
    program,
    'doctor',
    "check Doctor Job's tables and queue: migrations, the job table's size and dead rows, vacuum, the oldest transaction holding cleanup back, the oldest due job, paused types",
    `Each check has a verdict (ok, warn, fail, or unknown when the database would
not say) and what to do. Exit code 1 when a check fails. Reads only.`,
  ).action(
    run(async (admin, options, connection) => {
      const migrations = await migrationStatus({ dialect: connection.dialect, query: (sql) => Promise.resolve(connection.client.$queryRawUnsafe<Record<string, unknown>[]>(sql)) });
      const report = await admin.doctor({ migrations });
      io.out(options.json ? json(report) : doctorText(report, connection));
      if (report.verdict === 'fail') context.setExitCode(1);
    }),
  );
}

type FilterOptions = { type?: string; reason?: string; failedBefore?: string; failedAfter?: string };

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

function runWith<O>(context: ConsoleContext, work: (admin: DoctorJobAdminService, options: ConsoleOptions & O) => Promise<void>) {
  return (options: ConsoleOptions & O) => withAdmin(context, options, (admin) => work(admin, options));
}

/** For commands with arguments: commander passes them first, then the options. */
function runWithArgs<A extends unknown[], O = object>(context: ConsoleContext, work: (admin: DoctorJobAdminService, options: ConsoleOptions & O, args: A) => Promise<void>) {
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

function integer(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw usageError(`${name} must be a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** --failed-before / --failed-after: ISO-8601, or an age (7d: seven days ago). */
function timeOf(value: string | undefined, name: string): string | Date | undefined {
  if (value === undefined) return undefined;
  const age = /^(\d+)(ms|s|m|h|d|w)$/.exec(value.trim());
  if (age) {
    const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[age[2] as 'ms'];
    return new Date(Date.now() - Number(age[1]) * unit);
  }
  if (!/^\d{4}-\d\d-\d\d/.test(value)) throw usageError(`${name} must be ${TIME_HELP}, got ${JSON.stringify(value)}`);
  return value;
}

function filterOf(options: FilterOptions): DeadLetterMatch {
  return {
    type: options.type,
    reason: options.reason as never,
    failedBefore: timeOf(options.failedBefore, '--failed-before'),
    failedAfter: timeOf(options.failedAfter, '--failed-after'),
  };
}

function bulkOf(options: FilterOptions & { all?: boolean }): DeadLetterBulkMatch {
  const match = filterOf(options);
  const any = Object.values(match).some((v) => v !== undefined);
  if (!any && !options.all) throw usageError('which dead letters? give ids, a filter (--type, --reason, --failed-before, --failed-after), or --all');
  if (any && options.all) throw usageError('--all selects every dead letter: leave out the filter, or --all');
  return options.all ? { all: true } : match;
}

function noFilter(options: FilterOptions & { all?: boolean }): void {
  if (options.all || Object.values(filterOf(options)).some((v) => v !== undefined)) throw usageError('give dead letter ids or a filter (or --all), not both');
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

function statsTable(stats: AdminStats): string {
  const rows = stats.types.map((t) => [
    cell(t.type, 40),
    String(t.due),
    String(t.scheduled),
    String(t.running),
    t.paused ? `yes (${relative(t.pausedAt)})` : '',
    String(t.deadLetters),
    t.due ? ago(t.oldestDueAgeMs, false) : '',
  ]);
  const { totals } = stats;
  const total = stats.types.length > 1 ? [['(all)', String(totals.due), String(totals.scheduled), String(totals.running), '', String(totals.deadLetters), '']] : [];
  return table(['TYPE', 'DUE', 'SCHEDULED', 'RUNNING', 'PAUSED', 'DEAD', 'OLDEST DUE'], [...rows, ...total]);
}

function jobsTable(page: Page<QueuedJob>): string {
  const rows = page.items.map((job) => [
    job.id,
    cell(job.type, 40),
    job.state,
    `${job.attempts}/${job.maxAttempts}`,
    relative(job.runAt),
    job.state === 'running' ? `${cell(job.lockedBy, 40)} (${relative(job.claimedAt)})` : '',
    cell([job.orderingKey && `order:${job.orderingKey}`, job.dedupKey && `dedup:${job.dedupKey}`].filter(Boolean).join(' '), 40),
    cell(job.lastError, 50),
  ]);
  return table(['ID', 'TYPE', 'STATE', 'ATTEMPTS', 'RUN AT', 'HELD BY', 'KEYS', 'LAST ERROR'], rows) + more(page);
}

function deadLettersTable(page: Page<DeadLetter>): string {
  const rows = page.items.map((letter) => [
    letter.id,
    letter.jobId,
    cell(letter.type, 40),
    letter.reason,
    `${letter.attempts}/${letter.maxAttempts}`,
    relative(letter.failedAt),
    cell(letter.errorMessage, 60),
  ]);
  return table(['ID', 'JOB', 'TYPE', 'REASON', 'ATTEMPTS', 'FAILED', 'ERROR'], rows) + more(page);
}

function more(page: Page<unknown>): string {
  return page.nextCursor ? `More: --cursor ${page.nextCursor}\n` : '';
}

function jobDetail(job: JobDetail): string {
  const lease =
    job.state === 'running'
      ? `held by ${cell(job.lockedBy)} since ${time(job.claimedAt)}, lease until ${time(job.lockedUntil)}`
      : job.lockedUntil
        ? `none (the last, by ${cell(job.lockedBy) || 'a worker'}, ran out at ${time(job.lockedUntil)})`
        : 'none';
  return (
    fields([
      ['Job', job.id],
      ['Type', cell(job.type, 255)],
      ['State', job.state],
      ['Run at', time(job.runAt)],
      ['Attempts', `${job.attempts} of ${job.maxAttempts}`],
      ['Priority', String(job.priority)],
      ['Ordering key', cell(job.orderingKey, 255)],
      ['Dedup key', cell(job.dedupKey, 255)],
      ['Lease', lease],
      ['Replays', job.replayOf ? `the dead letter of job ${job.replayOf}` : ''],
      ['Created at', time(job.createdAt)],
      ['Last error', cell(job.lastError, 500)],
    ]) +
    `Payload:\n${block(JSON.stringify(job.payload, null, 2) ?? 'undefined')}` +
    history(job.history)
  );
}

function deadLetterDetail(letter: DeadLetterDetail): string {
  return (
    fields([
      ['Dead letter', letter.id],
      ['Job', letter.jobId],
      ['Type', cell(letter.type, 255)],
      ['Reason', letter.reason],
      ['Failed at', time(letter.failedAt)],
      ['Attempts', `${letter.attempts} of ${letter.maxAttempts}`],
      ['Replays', letter.replayOf ? `the dead letter of job ${letter.replayOf}` : ''],
      ['Created at', time(letter.createdAt)],
      ['Error', cell(letter.errorMessage, 500)],
    ]) +
    (letter.errorStack ? `Stack:\n${block(letter.errorStack)}` : '') +
    `Payload:\n${block(JSON.stringify(letter.payload, null, 2) ?? 'undefined')}` +
    history(letter.history)
  );
}

function history(attempts: JobAttempt[]): string {
  if (attempts.length === 0) return 'History: no failed attempt recorded\n';
  const rows = attempts.map((a) => [a.jobId, String(a.attempt), time(a.failedAt), cell(a.errorMessage, 80)]);
  return `History (${plural(attempts.length, 'failed attempt')}):\n${table(['JOB', 'ATTEMPT', 'FAILED AT', 'ERROR'], rows).replace(/^(?=.)/gm, '  ')}`;
}

const time = (date: Date | null) => (date ? `${date.toISOString()} (${relative(date)})` : '');

const MARK: Record<Verdict, string> = { ok: 'ok     ', warn: 'WARN   ', fail: 'FAIL   ', unknown: 'unknown' };

function doctorText(report: DoctorReport, connection: StoreClient): string {
  const lines = [`Doctor Job on ${connection.target.display} (${report.dialect}), ${report.checkedAt.toISOString()}`, ''];
  for (const check of report.checks) {
    lines.push(`${MARK[check.verdict]}  ${check.title}: ${cell(check.summary, 400)}`);
    if (check.advice && check.verdict !== 'ok') lines.push(`         what to do: ${check.advice}`);
  }
  const counts = (['fail', 'warn', 'unknown'] as Verdict[]).map((v) => [v, report.checks.filter((c) => c.verdict === v).length] as const).filter(([, n]) => n);
  lines.push('', counts.length ? `${counts.map(([v, n]) => `${n} ${v}`).join(', ')} of ${report.checks.length} checks.` : `All ${report.checks.length} checks ok.`);
  return `${lines.join('\n')}\n`;
}

