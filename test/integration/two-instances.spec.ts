import { Injectable } from '@nestjs/common';
import { JobHandler, type JobContext } from 'doctor-job';
import { createPrismaClient } from '../../sample/database/prisma.service';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/databases';
import { startOutboxApp, type OutboxApp } from '../support/outbox-app';
import { waitFor } from '../support/wait';

const JOBS = 1_000;

/** Records every run in a table (through the test's own connection). */
@Injectable()
class RecordingHandler {
  static db: TestDatabase;
  handled = 0;

  @JobHandler('record')
  async record(payload: { n: number }, job: JobContext) {
    await RecordingHandler.db.execute('INSERT INTO "handled" ("job_id", "n") VALUES ($1::bigint, $2::int)', job.id, payload.n);
    this.handled++;
  }
}

describePostgres('two app instances on one PostgreSQL database', () => {
  let db: TestDatabase;
  let second: TestDatabase['prisma'];
  const apps: OutboxApp[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('postgresql');
    second = await createPrismaClient(db.url);
    await db.execute('CREATE TABLE "handled" ("job_id" BIGINT NOT NULL, "n" INT NOT NULL)');
    RecordingHandler.db = db;
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await second?.$disconnect();
    await db?.dispose();
  });

  it(`handles each of ${JOBS} jobs exactly once, the work shared by both`, async () => {
    const options = { concurrency: 8, batchSize: 10, pollIntervalMs: 20 };
    apps.push(await startOutboxApp(db, [RecordingHandler], { ...options, autoStart: false }));
    apps.push(await startOutboxApp({ ...db, prisma: second }, [RecordingHandler], { ...options, autoStart: false }));
    await apps[0].outbox.transaction((tx) =>
      apps[0].outbox.enqueueMany(tx, Array.from({ length: JOBS }, (_, n) => ({ type: 'record', payload: { n } }))),
    );
    for (const app of apps) app.runner.start();

    await waitFor('queue drained', async () => (await db.countJobs()) === 0, 60_000, 100);
    const [{ runs, distinct, numbers }] = await db.query<{ runs: unknown; distinct: unknown; numbers: unknown }>(
      'SELECT COUNT(*) AS runs, COUNT(DISTINCT "job_id") AS distinct, COUNT(DISTINCT "n") AS numbers FROM "handled"',
    );
    expect([Number(runs), Number(distinct), Number(numbers)]).toEqual([JOBS, JOBS, JOBS]);
    const [a, b] = apps.map((app) => app.module.get(RecordingHandler).handled);
    expect(a + b).toBe(JOBS);
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    expect(await db.countDeadLetters()).toBe(0);
  });
});
