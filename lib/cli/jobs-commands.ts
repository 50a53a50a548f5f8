/** The console's `jobs` commands: list, show, cancel and run-now, with their tables and the job in full. */
import type { Command } from 'commander';
import type { JobDetail, Page } from '../admin/admin.types';
import { JOB_STATES, type QueuedJob } from '../store/job-store.interface';
import { consoleCommand, integer, runWith, runWithArgs, type ConsoleContext } from './console-runner';
import { history, more, plural, time } from './console-text';
import { block, cell, fields, json, relative, table } from './output';

/** Registers `jobs list|show|cancel|run-now` on the program. */
export function registerJobsCommands(program: Command, context: ConsoleContext): void {
  const { io } = context;
  const command = consoleCommand(context);

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
