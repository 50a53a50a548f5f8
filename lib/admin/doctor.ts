/**
 * `doctor`: what the database says about Doctor Job's tables (StoreDiagnostics), the queue and the
 * migrations, judged one check at a time, each with a verdict and what to do. No SQL here: the
 * figures come from the store (`diagnose()`, `stats()`, `listPausedTypes()`), the migration state
 * from the caller (the CLI reads it with migrationStatus).
 */
import type { MigrationStatus } from '../cli/migrations';
import type { Dialect } from '../doctor-job.options';
import type { HorizonHolder, PausedType, QueueStats, StoreDiagnostics, TableDiagnostics } from '../store/job-store.interface';

/** `ok`: nothing to do; `warn`: worth a look soon; `fail`: act now; `unknown`: the figure could not be read. */
export type Verdict = 'ok' | 'warn' | 'fail' | 'unknown';

export interface DoctorCheck {
  /** A stable name: schema, queue-table, dead-rows, vacuum, horizon, purge, free-space, oldest-due, paused, dead-letters. */
  id: string;
  title: string;
  verdict: Verdict;
  /** What was found, in one line. */
  summary: string;
  /** What to do about it (with a fail or warn verdict). */
  advice?: string;
}

export interface DoctorReport {
  dialect: Dialect;
  checkedAt: Date;
  /** The worst verdict of the checks. */
  verdict: Verdict;
  checks: DoctorCheck[];
  /** The raw figures the checks judged. */
  diagnostics: StoreDiagnostics;
}

/** When a figure is worth a warning, and when it fails the check. */
export const DOCTOR_THRESHOLDS = {
  /** A due job unclaimed for this long: warn / fail. */
  oldestDueMs: { warn: 60_000, fail: 15 * 60_000 },
  /** A transaction (or slot) holding back cleanup for this long: warn / fail. */
  horizonMs: { warn: 5 * 60_000, fail: 60 * 60_000 },
  /** PostgreSQL: dead row versions in doctor_job, as a share of all its row versions, once there are more than `min`. */
  deadRows: { min: 10_000, warn: 0.2, fail: 0.5 },
  /** PostgreSQL: doctor_job's heap per live row beyond which it is bloated, once it is larger than `minBytes`. */
  bloat: { minBytes: 64 * 1024 * 1024, bytesPerRow: 16 * 1024 },
  /** Dead rows not vacuumed for this long. */
  vacuumMs: 60 * 60_000,
  /** MariaDB: InnoDB undo records not yet purged: warn / fail. */
  purge: { warn: 1_000_000, fail: 10_000_000 },
  /** Free space (MariaDB DATA_FREE, SQLite free pages) beyond this share of the table (file), once larger than `minBytes`. */
  freeSpace: { minBytes: 64 * 1024 * 1024, share: 0.5 },
} as const;

const ORDER: Verdict[] = ['ok', 'unknown', 'warn', 'fail'];
const worst = (verdicts: Verdict[]): Verdict => verdicts.reduce((a, b) => (ORDER.indexOf(b) > ORDER.indexOf(a) ? b : a), 'ok');

export interface DoctorFacts {
  diagnostics: StoreDiagnostics;
  stats: QueueStats;
  paused: PausedType[];
  migrations?: MigrationStatus;
  now?: Date;
}

/** Judges the facts: one check per concern, in the order an operator reads them. */
export function doctorReport({ diagnostics, stats, paused, migrations, now = new Date() }: DoctorFacts): DoctorReport {
  const checks: DoctorCheck[] = [];
  if (migrations) checks.push(schemaCheck(migrations));
  const jobTable = diagnostics.tables.find((t) => t.table === 'doctor_job');
  checks.push(queueTableCheck(diagnostics, jobTable));
  if (diagnostics.dialect === 'postgresql') checks.push(deadRowsCheck(jobTable), vacuumCheck(jobTable, now));
  if (diagnostics.dialect !== 'sqlite') checks.push(horizonCheck(diagnostics));
  if (diagnostics.dialect === 'mysql') checks.push(purgeCheck(diagnostics), freeSpaceCheck(jobTable));
  if (diagnostics.dialect === 'sqlite') checks.push(sqliteFileCheck(diagnostics));
  checks.push(oldestDueCheck(stats, paused), pausedCheck(paused, now), deadLettersCheck(stats));
  return { dialect: diagnostics.dialect, checkedAt: now, verdict: worst(checks.map((c) => c.verdict)), checks, diagnostics };
}

function schemaCheck(status: MigrationStatus): DoctorCheck {
  const title = 'Schema and migrations';
  const applied = status.migrations.filter((m) => m.state === 'applied').length;
  if (status.upToDate) return { id: 'schema', title, verdict: 'ok', summary: `all ${applied} Doctor Job migrations applied` };
  const problems = status.migrations.filter((m) => m.state === 'failed' || m.state === 'modified');
  if (problems.length) {
    return {
      id: 'schema',
      title,
      verdict: 'fail',
      summary: problems.map((m) => `${m.name} is ${m.state}`).join('; '),
      advice: 'run `npx doctor-job status` for what happened to each and how to get out of it',
    };
  }
  return {
    id: 'schema',
    title,
    verdict: 'fail',
    summary: `${status.pending.length} of ${status.migrations.length} migrations pending: ${status.pending.join(', ')}`,
    advice: 'run `npx doctor-job migrate` (the runner does not start while a migration is pending)',
  };
}

function queueTableCheck(diagnostics: StoreDiagnostics, table: TableDiagnostics | undefined): DoctorCheck {
  const title = 'The job table (doctor_job)';
  if (!table) return { id: 'queue-table', title, verdict: 'unknown', summary: `no figures for doctor_job${unavailableNote(diagnostics)}` };
  const parts = [`${count(table.rows)} rows${diagnostics.dialect === 'sqlite' ? '' : ' (estimate)'}`, `table ${bytes(table.tableBytes)}`, `indexes ${bytes(table.indexBytes)}`];
  if (table.indexes.length) parts.push(table.indexes.map((index) => `${index.name} ${bytes(index.bytes)}`).join(', '));
  const { minBytes, bytesPerRow } = DOCTOR_THRESHOLDS.bloat;
  const rows = Math.max(table.rows ?? 0, 1);
  if (diagnostics.dialect === 'postgresql' && table.tableBytes !== null && table.tableBytes > minBytes && table.tableBytes / rows > bytesPerRow) {
    return {
      id: 'queue-table',
      title,
      verdict: 'warn',
      summary: `${parts.join('; ')}: about ${bytes(table.tableBytes / rows)} per live row, so the table is bloated (mostly empty pages)`,
      advice:
        'first fix what let it grow (see the dead rows, vacuum and horizon checks); then give the space back with VACUUM FULL doctor_job ' +
        '(locks the table while it runs: stop the runners) or pg_repack (online). Plain VACUUM only makes the space reusable',
    };
  }
  return { id: 'queue-table', title, verdict: 'ok', summary: parts.join('; ') };
}

function deadRowsCheck(table: TableDiagnostics | undefined): DoctorCheck {
  const title = 'Dead rows in doctor_job';
  if (!table || table.deadRows === null || table.rows === null) return { id: 'dead-rows', title, verdict: 'unknown', summary: 'pg_stat_user_tables has no figures for doctor_job' };
  const all = table.rows + table.deadRows;
  const share = all ? table.deadRows / all : 0;
  const { min, warn, fail } = DOCTOR_THRESHOLDS.deadRows;
  const summary = `${count(table.deadRows)} dead row versions, ${percent(share)} of the table's rows`;
  const verdict: Verdict = table.deadRows < min ? 'ok' : share >= fail ? 'fail' : share >= warn ? 'warn' : 'ok';
  if (verdict === 'ok') return { id: 'dead-rows', title, verdict, summary };
  return {
    id: 'dead-rows',
    title,
    verdict,
    summary,
    advice:
      'every finished job leaves a dead row until vacuum removes it. If a transaction holds the horizon back (see that check), end it first; ' +
      'then VACUUM (VERBOSE) doctor_job, and let autovacuum keep up: ALTER TABLE doctor_job SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_cost_delay = 0)',
  };
}

function vacuumCheck(table: TableDiagnostics | undefined, now: Date): DoctorCheck {
  const title = 'Last (auto)vacuum of doctor_job';
  if (!table) return { id: 'vacuum', title, verdict: 'unknown', summary: 'no figures for doctor_job' };
  const last = [table.lastVacuum, table.lastAutovacuum].filter((d): d is Date => d !== null).sort((a, b) => b.getTime() - a.getTime())[0];
  const summary = last
    ? `last ${table.lastAutovacuum && last === table.lastAutovacuum ? 'autovacuum' : 'vacuum'} ${ago(now.getTime() - last.getTime())} (${last.toISOString()})`
    : 'never vacuumed since the statistics were reset';
  const stale = !last || now.getTime() - last.getTime() > DOCTOR_THRESHOLDS.vacuumMs;
  if ((table.deadRows ?? 0) >= DOCTOR_THRESHOLDS.deadRows.min && stale) {
    return {
      id: 'vacuum',
      title,
      verdict: 'warn',
      summary: `${summary}, with ${count(table.deadRows)} dead rows waiting`,
      advice: 'autovacuum is not keeping up or not running (check autovacuum = on, and its workers in pg_stat_activity); run VACUUM (VERBOSE) doctor_job now',
    };
  }
  return { id: 'vacuum', title, verdict: 'ok', summary };
}

function horizonCheck(diagnostics: StoreDiagnostics): DoctorCheck {
  const title = diagnostics.dialect === 'postgresql' ? 'Oldest transaction holding back vacuum' : 'Oldest open transaction (holds back purge)';
  const holder = diagnostics.oldestHorizonHolder;
  if (holder === undefined) return { id: 'horizon', title, verdict: 'unknown', summary: `could not be read${unavailableNote(diagnostics)}` };
  if (holder === null) return { id: 'horizon', title, verdict: 'ok', summary: 'no other transaction is open' };
  const { warn, fail } = DOCTOR_THRESHOLDS.horizonMs;
  const age = holder.ageMs;
  const inactiveSlot = holder.kind === 'replication slot' && holder.state === 'inactive';
  const verdict: Verdict = inactiveSlot ? 'fail' : age === null ? 'ok' : age >= fail ? 'fail' : age >= warn ? 'warn' : 'ok';
  const summary = describeHolder(holder);
  if (verdict === 'ok') return { id: 'horizon', title, verdict, summary };
  return { id: 'horizon', title, verdict, summary, advice: holderAdvice(diagnostics.dialect, holder) };
}

function describeHolder(holder: HorizonHolder): string {
  const who = [holder.user && `user ${holder.user}`, holder.application && `application ${JSON.stringify(holder.application)}`, holder.database && `database ${holder.database}`]
    .filter(Boolean)
    .join(', ');
  const age = holder.ageMs === null ? '' : ` open for ${ago(holder.ageMs, false)}`;
  const xmin = holder.xminAge === null ? '' : ` (${count(holder.xminAge)} transactions old)`;
  const state = holder.state ? `, ${holder.state}` : '';
  const query = holder.query ? `; last statement: ${JSON.stringify(holder.query.replace(/\s+/g, ' ').slice(0, 120))}` : '';
  const name = holder.kind === 'transaction' ? `transaction of connection ${holder.id}` : `${holder.kind} ${JSON.stringify(holder.id)}`;
  return `${name}${age}${xmin}${state}${who ? ` (${who})` : ''}${query}`;
}

function holderAdvice(dialect: Dialect, holder: HorizonHolder): string {
  if (holder.kind === 'replication slot') {
    return `a replication slot keeps every row version since its xmin: if its consumer is gone, drop it: SELECT pg_drop_replication_slot('${holder.id}')`;
  }
  if (holder.kind === 'prepared transaction') return `a forgotten two-phase transaction: finish it with COMMIT PREPARED '${holder.id}' or ROLLBACK PREPARED '${holder.id}'`;
  if (dialect === 'postgresql') {
    return (
      `while it is open, vacuum cannot remove any row version it might still see, so doctor_job fills with dead rows. ` +
      `Find out what it is, then end it: SELECT pg_terminate_backend(${holder.id}); to stop it happening, set idle_in_transaction_session_timeout ` +
      `(and statement_timeout) for that role`
    );
  }
  return `while it is open, InnoDB cannot purge old row versions (the undo log grows and queries slow down). Find out what it is, then end it: KILL ${holder.id}`;
}

function purgeCheck(diagnostics: StoreDiagnostics): DoctorCheck {
  const title = 'InnoDB purge backlog (history list length)';
  const backlog = diagnostics.purgeBacklog;
  if (backlog === null || backlog === undefined) return { id: 'purge', title, verdict: 'unknown', summary: `could not be read${unavailableNote(diagnostics)}` };
  const { warn, fail } = DOCTOR_THRESHOLDS.purge;
  const verdict: Verdict = backlog >= fail ? 'fail' : backlog >= warn ? 'warn' : 'ok';
  const summary = `${count(backlog)} undo log records not yet purged`;
  if (verdict === 'ok') return { id: 'purge', title, verdict, summary };
  return { id: 'purge', title, verdict, summary, advice: 'a long-running transaction holds purge back (see the transaction check): end it; if none is open, raise innodb_purge_threads' };
}

function freeSpaceCheck(table: TableDiagnostics | undefined): DoctorCheck {
  const title = 'Free space in doctor_job';
  if (!table || table.freeBytes === null || table.tableBytes === null) return { id: 'free-space', title, verdict: 'unknown', summary: 'information_schema has no figures for doctor_job' };
  const { minBytes, share } = DOCTOR_THRESHOLDS.freeSpace;
  const summary = `${bytes(table.freeBytes)} allocated but unused (table ${bytes(table.tableBytes)})`;
  if (table.freeBytes > minBytes && table.freeBytes > share * table.tableBytes) {
    return { id: 'free-space', title, verdict: 'warn', summary, advice: 'the table once held many more jobs; OPTIMIZE TABLE doctor_job gives the space back (rebuilds the table; short lock at the end)' };
  }
  return { id: 'free-space', title, verdict: 'ok', summary };
}

function sqliteFileCheck(diagnostics: StoreDiagnostics): DoctorCheck {
  const title = 'The database file';
  const file = diagnostics.file;
  if (!file) return { id: 'free-space', title, verdict: 'unknown', summary: `could not be read${unavailableNote(diagnostics)}` };
  const free = file.freePages * file.pageSize;
  const summary = `${bytes(file.pages * file.pageSize)} in ${count(file.pages)} pages, ${count(file.freePages)} free (${bytes(free)}); journal ${file.journalMode}, auto_vacuum ${file.autoVacuum}`;
  const { minBytes, share } = DOCTOR_THRESHOLDS.freeSpace;
  if (free > minBytes && file.freePages > share * file.pages) {
    return { id: 'free-space', title, verdict: 'warn', summary, advice: 'the file keeps the space of jobs that are gone; VACUUM (with no writer running) gives it back' };
  }
  return { id: 'free-space', title, verdict: 'ok', summary };
}

function oldestDueCheck(stats: QueueStats, paused: PausedType[]): DoctorCheck {
  const title = 'Oldest due job';
  const pausedTypes = new Set(paused.map((p) => p.type));
  const live = stats.types.filter((t) => !pausedTypes.has(t.type) && t.due > 0);
  const due = live.reduce((sum, t) => sum + t.due, 0);
  if (live.length === 0) {
    const held = stats.types.filter((t) => pausedTypes.has(t.type) && t.due > 0).reduce((sum, t) => sum + t.due, 0);
    return { id: 'oldest-due', title, verdict: 'ok', summary: held ? `no due job waits, but ${count(held)} of paused types` : 'no job is waiting to be claimed' };
  }
  const oldest = live.reduce((a, b) => (b.oldestDueAgeMs > a.oldestDueAgeMs ? b : a));
  const { warn, fail } = DOCTOR_THRESHOLDS.oldestDueMs;
  const verdict: Verdict = oldest.oldestDueAgeMs >= fail ? 'fail' : oldest.oldestDueAgeMs >= warn ? 'warn' : 'ok';
  const summary = `${count(due)} due; the oldest (${oldest.type}) has waited ${ago(oldest.oldestDueAgeMs, false)}`;
  if (verdict === 'ok') return { id: 'oldest-due', title, verdict, summary };
  return {
    id: 'oldest-due',
    title,
    verdict,
    summary,
    advice:
      'no runner is claiming fast enough: check that the app instances run (health endpoint, logs: "Could not claim jobs"), ' +
      'that a handler for the type is registered where the runner runs, and raise concurrency/batchSize if the runners are busy (doctor-job stats)',
  };
}

function pausedCheck(paused: PausedType[], now: Date): DoctorCheck {
  const title = 'Paused job types';
  if (paused.length === 0) return { id: 'paused', title, verdict: 'ok', summary: 'none' };
  return {
    id: 'paused',
    title,
    verdict: 'warn',
    summary: paused.map((p) => `${p.type} (since ${ago(now.getTime() - p.pausedAt.getTime())})`).join(', '),
    advice: `no runner claims them and their jobs wait; resume each with npx doctor-job resume <type> when it should run again`,
  };
}

function deadLettersCheck(stats: QueueStats): DoctorCheck {
  const total = stats.deadLetters.reduce((sum, d) => sum + d.count, 0);
  const summary = total === 0 ? 'none' : `${count(total)}: ${stats.deadLetters.map((d) => `${d.type} ${count(d.count)}`).join(', ')}`;
  return {
    id: 'dead-letters',
    title: 'Dead letters',
    verdict: 'ok',
    summary,
    advice: total ? 'look at them with npx doctor-job dead-letters list; replay or delete them once the cause is fixed' : undefined,
  };
}

function unavailableNote(diagnostics: StoreDiagnostics): string {
  return diagnostics.unavailable.length ? ` (${diagnostics.unavailable.join('; ')})` : '';
}

/** 1234567 → "1,234,567". */
export function count(value: number | null): string {
  return value === null ? '?' : Math.round(value).toLocaleString('en-US');
}

/** Bytes in B, kB, MB, GB (powers of 1024). */
export function bytes(value: number | null): string {
  if (value === null) return '?';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let n = value;
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit++;
  }
  return `${unit === 0 ? Math.round(n) : n.toFixed(n < 10 ? 1 : 0)} ${units[unit]}`;
}

/** A duration: "3 s ago", "12 min ago", "2 h ago", "4 d ago" (without " ago" when `suffix` is false). */
export function ago(ms: number, suffix = true): string {
  const s = Math.max(0, ms) / 1000;
  const text = s < 1 ? `${Math.round(s * 1000)} ms` : s < 120 ? `${Math.round(s)} s` : s < 7200 ? `${Math.round(s / 60)} min` : s < 172_800 ? `${Math.round(s / 3600)} h` : `${Math.round(s / 86_400)} d`;
  return suffix ? `${text} ago` : text;
}

function percent(share: number): string {
  return `${Math.round(share * 100)} %`;
}
