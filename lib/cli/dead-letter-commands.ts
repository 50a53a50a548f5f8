/** The console's `dead-letters` commands: list, show, replay and delete, with their filters, table and detail. */
import type { Command } from 'commander';
import type { DeadLetterBulkMatch, DeadLetterDetail, DeadLetterMatch, Page } from '../admin/admin.types';
import { DEAD_LETTER_REASONS, type DeadLetter } from '../store/job-store.interface';
import { consoleCommand, integer, runWith, runWithArgs, type ConsoleContext } from './console-runner';
import { history, more, plural, time } from './console-text';
import { usageError } from './errors';
import { block, cell, fields, json, relative, table } from './output';

const TIME_HELP = 'a time (ISO-8601, e.g. 2026-12-01T08:00:00Z) or an age (30s, 15m, 12h, 7d: that long ago)';

/** Registers `dead-letters list|show|replay|delete` on the program. */
export function registerDeadLetterCommands(program: Command, context: ConsoleContext): void {
  const { io } = context;
  const command = consoleCommand(context);

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
}

type FilterOptions = { type?: string; reason?: string; failedBefore?: string; failedAfter?: string };

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

