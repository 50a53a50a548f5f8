import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Client } from 'pg';
import { JobHandler } from 'doctor-job';
import { createJobStore } from '../../lib/store/create-job-store';
import { claimRows } from '../../lib/store/postgresql/postgresql.sql';
import type { JobStore } from '../../lib/store/job-store.interface';
import { createTestDatabase, describePostgres, eachDialect, type TestDatabase } from '../support/databases';
import { startOutboxApp } from '../support/outbox-app';
import { sleep, waitFor } from '../support/wait';

const job = (type = 'work', extra = {}) => ({ type, payload: '{"k":1}', maxAttempts: 3, priority: 0, ...extra });

// The store's own cases (claims, leases, fencing, the database clock) are in the store contract,
// job-store.contract.spec.ts. Here: how the app treats what the store reports.
// On PostgreSQL the runner's statements go through a pg pool of the store's own by default, or
// through the Prisma client (runnerPool: false): both paths run the whole suite.
eachDialect('claims and leases, as the app sees them', (dialect) => {
  const paths = dialect === 'postgresql' ? (['runner pool', 'Prisma client'] as const) : (['Prisma client'] as const);
  describe.each(paths)('runner statements through the %s', (path) => {
    let db: TestDatabase;
    let store: JobStore;

    beforeAll(async () => {
      db = await createTestDatabase(dialect);
      store = createJobStore(dialect, db.prisma, { notify: false, runnerPool: path === 'runner pool' ? { connectionString: db.url, max: 2 } : false });
    });
    afterAll(async () => {
      await store?.close?.();
      await db?.dispose();
    });
    beforeEach(() => db.execute('DELETE FROM "doctor_job"'));

    const insert = (...jobs: ReturnType<typeof job>[]) => db.prisma.$transaction((tx) => store.insert(tx, jobs));

    it('dead-letters a job whose lease ran out during its last attempt instead of running it again', async () => {
      @Injectable()
      class Work {
        runs = 0;
        @JobHandler('work', { maxAttempts: 3 })
        run() {
          this.runs++;
        }
      }
      const [id] = await insert(job());
      // Three claims whose workers "died": the lease of the last one runs out.
      for (let i = 0; i < 3; i++) {
        await store.claim({ limit: 1, leaseMs: 1, token: randomUUID() });
        await sleep(20);
      }
      const app = await startOutboxApp(db, [Work]);
      try {
        await waitFor('dead-lettered', async () => (await db.countDeadLetters()) === 1);
        const [letter] = (await app.deadLetters.list()).items;
        expect(letter).toMatchObject({ jobId: id, attempts: 4, maxAttempts: 3 });
        expect(letter.errorMessage).toContain("The job's lease expired during its last allowed attempt (3)");
        expect(app.module.get(Work).runs).toBe(0);
      } finally {
        await app.close();
      }
    });
  });
});

// The claim's UPDATE reads the rows its subquery locked by their row address (ctid). A row that
// another transaction changed and committed after the claim began, and before the claim locked it,
// is locked at a version the claim's snapshot cannot see: the UPDATE passes over it. What must
// hold: that job is neither claimed nor lost; it stays due and the next claim takes it. The store's
// own statement cannot be slowed from outside, so this runs the same text with a pause on the
// first row, while a second connection commits its change in that pause.
describePostgres('the PostgreSQL claim and a row changed under it', () => {
  let db: TestDatabase;
  let store: JobStore;
  beforeAll(async () => {
    db = await createTestDatabase('postgresql');
    store = createJobStore('postgresql', db.prisma, { notify: false, runnerPool: { connectionString: db.url, max: 2 } });
  });
  afterAll(async () => {
    await store?.close?.();
    await db?.dispose();
  });

  it('passes over a row committed between its start and its lock, and the next claim takes it', async () => {
    const [first, second, third] = await db.prisma.$transaction((tx) => store.insert(tx, [job(), job(), job()]));
    const paused = claimRows.replace('AND (d."ordering_key" IS NULL', `AND (d."id" <> ${first} OR pg_sleep(0.5) IS NOT NULL) AND (d."ordering_key" IS NULL`);
    expect(paused).not.toBe(claimRows);
    const claimer = new Client({ connectionString: db.url });
    const writer = new Client({ connectionString: db.url });
    await claimer.connect();
    await writer.connect();
    try {
      await writer.query('BEGIN');
      const claiming = claimer.query(paused, [3, 60_000, randomUUID(), null]);
      await sleep(150);
      // Still due after the change: the claim's re-check of the new version lets it through to the lock.
      await writer.query('UPDATE "doctor_job" SET "priority" = "priority" WHERE "id" = $1', [first]);
      await writer.query('COMMIT');
      const claimed = (await claiming).rows.map((r) => r.id).sort();
      expect(claimed).toEqual([second, third].sort());
      const [row] = await db.query<{ attempts: number; locked_until: Date | null }>('SELECT "attempts", "locked_until" FROM "doctor_job" WHERE "id" = $1', first);
      expect(row).toEqual({ attempts: 0, locked_until: null });
      const next = await store.claim({ limit: 3, leaseMs: 60_000, token: randomUUID() });
      expect(next.map((j) => j.id)).toEqual([first]);
    } finally {
      await claimer.end();
      await writer.end();
    }
  });
});
