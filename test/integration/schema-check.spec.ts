import { Injectable } from '@nestjs/common';
import { DoctorJobAdminService, EnqueueError, JobHandler } from 'doctor-job';
import { createTestDatabase, describePostgres, eachDialect, type TestDatabase } from '../support/databases';
import { startOutboxApp } from '../support/outbox-app';

@Injectable()
class Work {
  @JobHandler('schema-work')
  run() {}
}

eachDialect('start-up schema check: tables missing', (dialect) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    for (const table of ['doctor_job_schedule', 'doctor_job_dead_letter', 'doctor_job']) await db.execute(`DROP TABLE "${table}"`);
  });
  afterAll(() => db?.dispose());

  it('the runner does not start and says why in one line naming `npx doctor-job migrate`; enqueue throws an EnqueueError saying the same', async () => {
    const app = await startOutboxApp(db, [Work]);
    try {
      expect(app.runner.isRunning).toBe(false);
      const errors = app.logs.of('error');
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBe(
        "Doctor Job's tables doctor_job, doctor_job_dead_letter, doctor_job_schedule are missing from the database: run `npx doctor-job migrate` " +
          'against this database (DATABASE_URL or --url), or apply the SQL of `npx doctor-job sql` with your own migration tool. The runner did not start.',
      );
      const error = await app.outbox.transaction((tx) => app.outbox.enqueue(tx, 'schema-work', {})).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EnqueueError);
      expect((error as Error).message).toContain("Doctor Job's tables doctor_job, doctor_job_dead_letter, doctor_job_schedule are missing");
      expect((error as Error).message).not.toMatch(/P2010|does not exist|no such table|doesn't exist/);
    } finally {
      await app.close();
    }
  });
});

describePostgres('start-up schema check: a migration pending [postgresql]', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('postgresql');
    await db.execute(`DELETE FROM "_prisma_migrations" WHERE "migration_name" = '20261128020000_doctor_job_fillfactor'`);
  });
  afterAll(() => db?.dispose());

  it('names the pending migration and keeps the runner off; once it is recorded again, a new app starts its runner', async () => {
    const app = await startOutboxApp(db, [Work]);
    try {
      expect(app.runner.isRunning).toBe(false);
      expect(app.logs.of('error')).toEqual([expect.stringContaining("Doctor Job's migration 20261128020000_doctor_job_fillfactor is not applied to the database: run `npx doctor-job migrate`")]);
    } finally {
      await app.close();
    }
    await db.execute(
      `INSERT INTO "_prisma_migrations" ("id", "checksum", "migration_name", "finished_at", "applied_steps_count") ` +
        `SELECT gen_random_uuid()::text, 'x', '20261128020000_doctor_job_fillfactor', now(), 1`,
    );
    const again = await startOutboxApp(db, [Work]);
    try {
      expect(again.runner.isRunning).toBe(true);
      expect(again.logs.of('error')).toEqual([]);
    } finally {
      await again.close();
    }
  });
});

describePostgres('start-up schema check: a partitioned job table [postgresql]', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('postgresql');
    // doctor_job rebuilt as a hash-partitioned table of the same columns: the claim's ctid would name a row in each partition.
    await db.execute('ALTER TABLE "doctor_job" RENAME TO "doctor_job_plain"');
    await db.execute('CREATE TABLE "doctor_job" (LIKE "doctor_job_plain" INCLUDING DEFAULTS, PRIMARY KEY ("id")) PARTITION BY HASH ("id")');
    await db.execute('CREATE TABLE "doctor_job_p0" PARTITION OF "doctor_job" FOR VALUES WITH (MODULUS 2, REMAINDER 0)');
    await db.execute('CREATE TABLE "doctor_job_p1" PARTITION OF "doctor_job" FOR VALUES WITH (MODULUS 2, REMAINDER 1)');
  });
  afterAll(() => db?.dispose());

  it('keeps the runner off and says why; enqueues still commit, and wait for a runner', async () => {
    const app = await startOutboxApp(db, [Work]);
    try {
      expect(app.runner.isRunning).toBe(false);
      expect(app.logs.of('error')).toEqual([expect.stringMatching(/^Doctor Job's table doctor_job is partitioned\. .*ctid.* Keep doctor_job a plain table, .*The runner did not start\.$/)]);
      const id = await app.outbox.transaction((tx) => app.outbox.enqueue(tx, 'schema-work', {}));
      expect(await db.query('SELECT "id"::text AS "id", "attempts" FROM "doctor_job"')).toEqual([{ id, attempts: 0 }]);
      // doctor says the same, and lists the partitioned table once (not its partitions).
      const report = await app.module.get(DoctorJobAdminService).doctor();
      expect(report.verdict).toBe('fail');
      expect(report.checks.find((c) => c.id === 'queue-table')).toMatchObject({ verdict: 'fail', summary: 'doctor_job is a partitioned table, so the runner does not start' });
      expect(report.diagnostics.tables.map((t) => t.table)).toEqual(expect.arrayContaining(['doctor_job']));
      expect(report.diagnostics.tables.map((t) => t.table)).not.toEqual(expect.arrayContaining(['doctor_job_p0']));
      expect(report.diagnostics.tables.map((t) => t.table)).not.toEqual(expect.arrayContaining(['doctor_job_p1']));
    } finally {
      await app.close();
    }
  });
});
