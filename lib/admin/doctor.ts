/**
 * `doctor`: what the database says about Doctor Job's tables (StoreDiagnostics), the queue and the
 * migrations, judged one check at a time, each with a verdict and what to do. No SQL here: the
 * figures come from the store (`diagnose()`, `stats()`, `listPausedTypes()`), the migration state
 * from the caller (the CLI reads it with migrationStatus). The checks: doctor-*-checks.ts.
 */
import { horizonCheck, purgeCheck } from './doctor-cleanup-checks';
import { deadLettersCheck, oldestDueCheck, pausedCheck, schemaCheck } from './doctor-queue-checks';
import { deadRowsCheck, freeSpaceCheck, queueTableCheck, sqliteFileCheck, vacuumCheck } from './doctor-table-checks';
import type { DoctorCheck, DoctorFacts, DoctorReport, Verdict } from './doctor.types';

export { DOCTOR_THRESHOLDS, type DoctorCheck, type DoctorFacts, type DoctorReport, type Verdict } from './doctor.types';
export { ago, bytes, count } from './doctor-format';

const ORDER: Verdict[] = ['ok', 'unknown', 'warn', 'fail'];
const worst = (verdicts: Verdict[]): Verdict => verdicts.reduce((a, b) => (ORDER.indexOf(b) > ORDER.indexOf(a) ? b : a), 'ok');

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
