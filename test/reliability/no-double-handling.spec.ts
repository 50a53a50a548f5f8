import { describePostgres, type TestDatabase } from '../support/databases';
import type { OutboxApp } from '../support/outbox-app';
import { waitFor } from '../support/wait';
import { figure } from './support/figures';
import { useReliabilityContext } from './support/producer';
import { startWorker } from './support/processes';
import { countRuns } from './support/runs';

const JOBS = Number(process.env.DOUBLE_HANDLING_JOBS ?? 10_000);
const WORKERS = 4;
const CONCURRENCY = 10;

describePostgres('2. no double handling across worker processes', () => {
  const context = useReliabilityContext();
  const { workers } = context;
  let db: TestDatabase;
  let producer: OutboxApp;
  beforeAll(() => ({ db, producer } = context));

  it(`${JOBS} jobs, ${WORKERS} processes with concurrency ${CONCURRENCY}: each job handled exactly once`, async () => {
    workers.push(
      ...(await Promise.all(
        Array.from({ length: WORKERS }, (_, i) => startWorker(`double-${i}`, { DATABASE_URL: db.url, CONCURRENCY, BATCH_SIZE: CONCURRENCY, POLL_MS: 50 })),
      )),
    );
    const started = Date.now();
    for (let i = 0; i < JOBS; i += 5_000) {
      await producer.outbox.transaction((tx) =>
        producer.outbox.enqueueMany(tx, Array.from({ length: Math.min(5_000, JOBS - i) }, (_, k) => ({ type: 'record', payload: { n: i + k } }))),
      );
    }
    await waitFor('queue drained', async () => (await db.countJobs()) === 0, 240_000, 100);
    const seconds = (Date.now() - started) / 1000;
    await Promise.all(workers.map((w) => w.kill('SIGTERM')));

    const counts = await countRuns(db);
    const perWorker = await db.query<{ worker: string; n: unknown }>('SELECT "worker", COUNT(*) AS n FROM "runs" GROUP BY "worker" ORDER BY "worker"');
    figure('no double handling', {
      jobs: JOBS,
      processes: WORKERS,
      concurrency: CONCURRENCY,
      runs: counts.runs,
      duplicates: counts.duplicates,
      missing: JOBS - counts.distinctNumbers,
      seconds: seconds.toFixed(2),
      jobsPerSecond: Math.round(JOBS / seconds),
      perWorker: perWorker.map((r) => `${r.worker}:${r.n}`).join(' '),
    });
    expect(counts.duplicates).toBe(0);
    expect(counts.distinctNumbers).toBe(JOBS);
    expect(counts.runs).toBe(JOBS);
    expect(perWorker).toHaveLength(WORKERS);
    expect(await db.countDeadLetters()).toBe(0);
  });
});
