import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { JobHandler } from 'doctor-job';
import { createJobStore } from '../../lib/store/create-job-store';
import type { JobStore } from '../../lib/store/job-store.interface';
import { createTestDatabase, eachDialect, type TestDatabase } from '../support/databases';
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
