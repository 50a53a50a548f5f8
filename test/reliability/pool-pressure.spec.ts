import { describePostgres, type TestDatabase } from '../support/databases';
import type { OutboxApp } from '../support/outbox-app';
import { waitFor } from '../support/wait';
import { figure } from './support/figures';
import { useReliabilityContext } from './support/producer';
import { startWorker } from './support/processes';
import { countRuns } from './support/runs';

const JOBS = 500;
const POOL = 3;
const CONCURRENCY = 20;

describePostgres('10. pool pressure', () => {
  const context = useReliabilityContext();
  let db: TestDatabase;
  let producer: OutboxApp;
  beforeAll(() => ({ db, producer } = context));

  it(`concurrency ${CONCURRENCY} over a pool of ${POOL} while handlers open their own transactions: no deadlock, nothing stuck`, async () => {
    const worker = await startWorker('pool', {
      DATABASE_URL: db.url,
      POOL_MAX: POOL,
      CONCURRENCY,
      BATCH_SIZE: CONCURRENCY,
      POLL_MS: 50,
      LEASE_MS: 5_000,
      HANDLER_DELAY_MS: '20,50',
    });
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [{ n }] = await db.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM pg_stat_activity WHERE "application_name" = 'dj-pool'`);
        peak = Math.max(peak, Number(n));
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    try {
      const started = Date.now();
      await producer.outbox.transaction((tx) =>
        producer.outbox.enqueueMany(tx, Array.from({ length: JOBS }, (_, n) => ({ type: 'transactional', payload: { n } }))),
      );
      await waitFor('all handled', async () => (await db.countJobs()) === 0, 120_000, 100);
      const seconds = (Date.now() - started) / 1000;
      sampling = false;
      await sampler;
      const counts = await countRuns(db);
      const failures = worker.output().split('\n').filter((line) => line.includes('failed attempt')).length;
      figure('pool pressure', {
        jobs: JOBS,
        poolSize: POOL,
        concurrency: CONCURRENCY,
        peakConnections: peak,
        seconds: seconds.toFixed(2),
        handlerFailures: failures,
        duplicates: counts.duplicates,
        deadLetters: await db.countDeadLetters(),
      });
      expect(counts.distinctNumbers).toBe(JOBS);
      expect(await db.countDeadLetters()).toBe(0);
      expect(peak).toBeLessThanOrEqual(POOL);
    } finally {
      sampling = false;
      await sampler;
      await worker.kill('SIGTERM');
    }
  });
});
