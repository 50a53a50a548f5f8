import { createJobStore } from '../../lib/store/create-job-store';
import type { JobStore } from '../../lib/store/job-store.interface';
import { createTestDatabase, eachDialect } from '../support/databases';
import { jobStoreContract, type JobStoreHarness } from '../support/job-store-contract';
import { MemoryJobStore } from '../support/memory-job-store';
import { sleep } from '../support/wait';

/**
 * The store contract (test/support/job-store-contract.ts) on every dialect's store, built by
 * createJobStore as the module builds it. On PostgreSQL the runner's statements go through the
 * store's own pg pool (the default) or through the Prisma client (runnerPool: false): both run it.
 */
eachDialect('JobStore contract', (dialect) => {
  const paths = dialect === 'postgresql' ? (['runner pool', 'Prisma client'] as const) : (['Prisma client'] as const);
  describe.each(paths)('runner statements through the %s', (path) => {
    jobStoreContract(async (): Promise<JobStoreHarness> => {
      const db = await createTestDatabase(dialect);
      const store: JobStore = createJobStore(dialect, db.prisma, {
        notify: false,
        runnerPool: path === 'runner pool' ? { connectionString: db.url, max: 2 } : false,
      });
      return {
        store,
        // Long waits: on SQLite the transactions of a case queue for the single connection.
        transaction: (fn) => db.prisma.$transaction(fn, { maxWait: 30_000, timeout: 30_000 }),
        elapse: async (ms) => void (await sleep(ms)),
        reset: async () => {
          for (const table of ['doctor_job', 'doctor_job_dead_letter', 'doctor_job_schedule', 'doctor_job_attempt', 'doctor_job_paused_type', 'doctor_job_instance']) await db.execute(`DELETE FROM "${table}"`);
        },
        dispose: async () => {
          await store.close?.();
          await db.dispose();
        },
      };
    });
  });
});

/**
 * The same contract on the in-memory store that the runner's unit tests use: it is held to what
 * the real stores do, so a unit test on it says something about the runner on a database.
 */
describe('JobStore contract [in-memory test store]', () => {
  jobStoreContract(async (): Promise<JobStoreHarness> => {
    let store = new MemoryJobStore();
    return {
      get store() {
        return store;
      },
      transaction: (fn) => store.transaction(fn),
      elapse: async (ms) => store.clock.advance(ms),
      reset: async () => void (store = new MemoryJobStore()),
      dispose: async () => undefined,
    };
  });
});
