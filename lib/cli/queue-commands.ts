/**
 * The console's queue commands: stats, pause, resume and doctor (the checks, read with the
 * migration status), with the stats table and the doctor's report as text.
 */
import type { Command } from 'commander';
import type { AdminStats } from '../admin/admin.types';
import { ago, type DoctorReport, type Verdict } from '../admin/doctor';
import { consoleCommand, runWithArgs, runWithConnection, type ConsoleContext } from './console-runner';
import { migrationStatus } from './migrations';
import { cell, json, relative, table } from './output';
import type { StoreClient } from './store-client';

/** Registers `stats` on the program. */
export function registerStatsCommand(program: Command, context: ConsoleContext): void {
  const { io } = context;
  const command = consoleCommand(context);
  const run = runWithConnection(context);

  command(program, 'stats', 'the queue per job type: due, scheduled, running, paused, dead letters, age of the oldest due job', '').action(
    run(async (admin, options) => {
      const stats = await admin.stats();
      io.out(options.json ? json(stats) : statsTable(stats));
    }),
  );
}

/** Registers `pause`, `resume` and `doctor` on the program. */
export function registerQueueCommands(program: Command, context: ConsoleContext): void {
  const { io } = context;
  const command = consoleCommand(context);
  const run = runWithConnection(context);

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

