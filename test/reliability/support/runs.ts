import type { TestDatabase } from '../../support/databases';

/** The table the worker processes record every handler run in. */
export async function createRunsTable(db: TestDatabase): Promise<void> {
  await db.execute(
    `CREATE TABLE "runs" ("job_id" BIGINT NOT NULL, "n" INT, "worker" TEXT NOT NULL, "attempt" INT NOT NULL,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())`,
  );
}

export interface RunCounts {
  runs: number;
  distinctJobs: number;
  distinctNumbers: number;
  /** Runs beyond the first of each job. */
  duplicates: number;
}

export async function countRuns(db: TestDatabase): Promise<RunCounts> {
  const [row] = await db.query<{ runs: unknown; jobs: unknown; numbers: unknown }>(
    'SELECT COUNT(*) AS runs, COUNT(DISTINCT "job_id") AS jobs, COUNT(DISTINCT "n") AS numbers FROM "runs"',
  );
  const runs = Number(row.runs);
  const distinctJobs = Number(row.jobs);
  return { runs, distinctJobs, distinctNumbers: Number(row.numbers), duplicates: runs - distinctJobs };
}
