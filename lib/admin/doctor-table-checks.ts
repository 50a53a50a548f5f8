/**
 * `doctor`'s checks of the job table and its storage: its size and bloat, PostgreSQL's dead rows and
 * vacuum, MariaDB's free space, SQLite's database file.
 */
import type { StoreDiagnostics, TableDiagnostics } from '../store/job-store.interface';
import { ago, bytes, count, percent, unavailableNote } from './doctor-format';
import { DOCTOR_THRESHOLDS, type DoctorCheck, type Verdict } from './doctor.types';

const JOB_TABLE_PARTITIONED_ADVICE =
  'the claim reads the rows it locked by their address (ctid), which names a row only within one partition, so on a partitioned table it ' +
  'could take jobs it never locked. Make doctor_job a plain table again, as `npx doctor-job migrate` creates it: move the rows into a ' +
  'plain table of the same columns and indexes while the runners are stopped (finished jobs are deleted, so it stays small)';

export function queueTableCheck(diagnostics: StoreDiagnostics, table: TableDiagnostics | undefined): DoctorCheck {
  const title = 'The job table (doctor_job)';
  if (!table) return { id: 'queue-table', title, verdict: 'unknown', summary: `no figures for doctor_job${unavailableNote(diagnostics)}` };
  if (table.partitioned) {
    return { id: 'queue-table', title, verdict: 'fail', summary: 'doctor_job is a partitioned table, so the runner does not start', advice: JOB_TABLE_PARTITIONED_ADVICE };
  }
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
  // Indexes: vacuum makes the pages of removed entries reusable but never gives them back, so after a
  // long transaction held the horizon they keep their peak size (measured: SOAK.md).
  if (diagnostics.dialect === 'postgresql' && table.indexBytes !== null && table.indexBytes > minBytes && table.indexBytes / rows > bytesPerRow) {
    return {
      id: 'queue-table',
      title,
      verdict: 'warn',
      summary: `${parts.join('; ')}: about ${bytes(table.indexBytes / rows)} of index per live row, so the indexes are bloated (mostly empty pages)`,
      advice:
        'their pages are reused, so they stop growing once the cause is gone (see the horizon check). A running app rebuilds them by itself ' +
        'within a minute once no transaction holds the horizon (the reindex option, on by default; its log says "Rebuilt the bloated index"); ' +
        'if it is off or not allowed (REINDEX needs the table owner), give the space back with REINDEX TABLE CONCURRENTLY doctor_job ' +
        '(online; it needs free space for one more copy of the indexes while it runs)',
    };
  }
  return { id: 'queue-table', title, verdict: 'ok', summary: parts.join('; ') };
}

export function deadRowsCheck(table: TableDiagnostics | undefined): DoctorCheck {
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
      'then VACUUM (VERBOSE) doctor_job. To let autovacuum keep up: autovacuum = on; the migration 20261202030000_doctor_job_autovacuum ' +
      '(a fixed threshold of 1,000 dead rows and no cost delay for doctor_job: npx doctor-job migrate); and at high job rates a shorter ' +
      'autovacuum_naptime (a server setting, 1 min by default)',
  };
}

export function vacuumCheck(table: TableDiagnostics | undefined, now: Date): DoctorCheck {
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

export function freeSpaceCheck(table: TableDiagnostics | undefined): DoctorCheck {
  const title = 'Free space in doctor_job';
  if (!table || table.freeBytes === null || table.tableBytes === null) return { id: 'free-space', title, verdict: 'unknown', summary: 'information_schema has no figures for doctor_job' };
  const { minBytes, share } = DOCTOR_THRESHOLDS.freeSpace;
  const summary = `${bytes(table.freeBytes)} allocated but unused (table ${bytes(table.tableBytes)})`;
  if (table.freeBytes > minBytes && table.freeBytes > share * table.tableBytes) {
    return { id: 'free-space', title, verdict: 'warn', summary, advice: 'the table once held many more jobs; OPTIMIZE TABLE doctor_job gives the space back (rebuilds the table; short lock at the end)' };
  }
  return { id: 'free-space', title, verdict: 'ok', summary };
}

export function sqliteFileCheck(diagnostics: StoreDiagnostics): DoctorCheck {
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
