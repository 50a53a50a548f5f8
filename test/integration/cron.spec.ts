import { Injectable } from '@nestjs/common';
import { JobHandler, type JobContext } from 'doctor-job';
import { Client } from 'pg';
import { createPrismaClient } from '../../sample/database/prisma.service';
import { createTestDatabase, describePostgres, eachDialect, type TestDatabase } from '../support/databases';
import { startOutboxApp, type OutboxApp } from '../support/outbox-app';
import { sleep, waitFor } from '../support/wait';

@Injectable()
class Recurring {
  static ticks: { type: string; scheduledAt: string; app: string; id: string }[] = [];
  app = '';

  @JobHandler('every-second', { cron: '* * * * * *' })
  everySecond(payload: { scheduledAt: string }, job: JobContext) {
    Recurring.ticks.push({ type: job.type, scheduledAt: payload.scheduledAt, app: this.app, id: job.id });
  }

  @JobHandler('every-ten-seconds', { cron: '*/10 * * * * *' })
  everyTenSeconds(payload: { scheduledAt: string }, job: JobContext) {
    Recurring.ticks.push({ type: job.type, scheduledAt: payload.scheduledAt, app: this.app, id: job.id });
  }
}

eachDialect('recurring jobs (cron)', (dialect) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(dialect);
  });
  afterAll(() => db?.dispose());

  it('enqueues exactly one job per tick across instances, with no tick skipped', async () => {
    Recurring.ticks = [];
    const instances = dialect === 'postgresql' ? 3 : 2;
    const clients = await Promise.all(Array.from({ length: instances - 1 }, () => createPrismaClient(db.url)));
    const apps: OutboxApp[] = [];
    try {
      apps.push(await startOutboxApp(db, [Recurring], { pollIntervalMs: 50 }));
      for (const prisma of clients) apps.push(await startOutboxApp({ ...db, prisma }, [Recurring], { pollIntervalMs: 50 }));
      apps.forEach((app, i) => (app.module.get(Recurring).app = `app${i}`));
      await sleep(4_300);
      await Promise.all(apps.map((app) => app.runner.stop()));
      const seconds = Recurring.ticks.filter((t) => t.type === 'every-second').map((t) => t.scheduledAt).sort();
      expect(new Set(seconds).size).toBe(seconds.length); // one job per tick
      expect(seconds.length).toBeGreaterThanOrEqual(3);
      for (let i = 1; i < seconds.length; i++) expect(Date.parse(seconds[i]) - Date.parse(seconds[i - 1])).toBe(1_000); // none skipped
    } finally {
      await Promise.all(apps.map((app) => app.close()));
      await Promise.all(clients.map((client) => client.$disconnect()));
    }
  });

  it('on start, enqueues once the tick missed while every instance was down', async () => {
    Recurring.ticks = [];
    await db.execute('DELETE FROM "doctor_job"');
    // The last tick seen is the one before the latest: the latest was missed.
    const latest = Math.floor(Date.now() / 10_000) * 10_000;
    const stamp = new Date(latest - 10_000).toISOString();
    if (dialect === 'mysql') {
      await db.execute('REPLACE INTO `doctor_job_schedule` (`type`, `last_tick`) VALUES (\'every-ten-seconds\', ?)', stamp.replace('T', ' ').replace('Z', ''));
    } else if (dialect === 'postgresql') {
      await db.execute(`INSERT INTO "doctor_job_schedule" ("type", "last_tick") VALUES ('every-ten-seconds', $1::timestamptz) ON CONFLICT ("type") DO UPDATE SET "last_tick" = EXCLUDED."last_tick"`, stamp);
    } else {
      await db.execute(`INSERT INTO "doctor_job_schedule" ("type", "last_tick") VALUES ('every-ten-seconds', $1) ON CONFLICT ("type") DO UPDATE SET "last_tick" = excluded."last_tick"`, stamp);
    }
    const app = await startOutboxApp(db, [Recurring], { pollIntervalMs: 50 });
    try {
      await waitFor('the missed tick ran', () => Recurring.ticks.some((t) => t.type === 'every-ten-seconds' && t.scheduledAt === new Date(latest).toISOString()), 5_000);
      expect(app.logs.of('log').some((m) => m.includes(`enqueued the missed tick of ${new Date(latest).toISOString()}`))).toBe(true);
      expect(Recurring.ticks.filter((t) => t.type === 'every-ten-seconds' && t.scheduledAt === new Date(latest).toISOString())).toHaveLength(1);
    } finally {
      await app.close();
    }
  });
});

describePostgres('recurring jobs: shutdown', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('postgresql');
  });
  afterAll(() => db?.dispose());

  it('waits for a tick whose enqueue is in flight, so no query outlives the app', async () => {
    Recurring.ticks = [];
    const app = await startOutboxApp(db, [Recurring], { pollIntervalMs: 50 });
    const locker = new Client({ connectionString: db.url });
    await locker.connect();
    try {
      await waitFor('a tick ran', () => Recurring.ticks.some((t) => t.type === 'every-second'), 5_000);
      // Hold the schedule row: the next tick's enqueue waits for it.
      await locker.query('BEGIN');
      await locker.query(`SELECT 1 FROM "doctor_job_schedule" WHERE "type" = 'every-second' FOR UPDATE`);
      const waiting = async () =>
        Number(
          (await db.query<{ n: unknown }>(
            `SELECT count(*) AS n FROM pg_stat_activity WHERE "datname" = current_database() AND "wait_event_type" = 'Lock' AND "query" LIKE '%doctor_job_schedule%'`,
          ))[0].n,
        ) > 0;
      await waitFor('the next tick waits for the row', waiting, 3_000);
      const closing = app.close().then(() => 'closed');
      await sleep(300);
      expect(await Promise.race([closing, Promise.resolve('still closing')])).toBe('still closing');
      await locker.query('COMMIT');
      expect(await closing).toBe('closed');
    } finally {
      await locker.end();
      await app.close();
    }
  });
});
