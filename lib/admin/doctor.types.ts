/** What `doctor` reports: the verdicts, a check, the report, the facts it judges, and the thresholds of its checks. */
import type { MigrationStatus } from '../cli/migrations';
import type { Dialect } from '../doctor-job.options';
import type { PausedType, QueueStats, StoreDiagnostics } from '../store/job-store.interface';

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

export interface DoctorFacts {
  diagnostics: StoreDiagnostics;
  stats: QueueStats;
  paused: PausedType[];
  migrations?: MigrationStatus;
  now?: Date;
}
