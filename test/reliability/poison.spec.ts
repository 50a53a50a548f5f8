import { Injectable } from '@nestjs/common';
import { JobHandler } from 'doctor-job';
import { describePostgres, type TestDatabase } from '../support/databases';
import { startOutboxApp, type OutboxApp } from '../support/outbox-app';
import { waitFor } from '../support/wait';
import { figure } from './support/figures';
import { useReliabilityContext } from './support/producer';
import { startWorker } from './support/processes';

const HERD = 1_000;
// Far longer than failing 2,000 jobs takes, even on a loaded machine: the test waits for every job to have failed once,
// which a retry that came due first (a 10 s backoff jittered to 5 s did, once) would make false for good.
const HERD_BACKOFF_MS = 60_000;

/** Fail together with a thousand others; their retries spread by jitter, or not. */
@Injectable()
class HerdJobs {
  @JobHandler('herd.jitter', { maxAttempts: 2, backoff: { baseMs: HERD_BACKOFF_MS, maxMs: HERD_BACKOFF_MS, jitter: 0.5 } })
  herdJitter() {
    throw new Error('the downstream service is down');
  }

  @JobHandler('herd.flat', { maxAttempts: 2, backoff: { baseMs: HERD_BACKOFF_MS, maxMs: HERD_BACKOFF_MS, jitter: 0 } })
  herdFlat() {
    throw new Error('the downstream service is down');
  }
}

describePostgres('8. poison jobs', () => {
  const context = useReliabilityContext();
  let db: TestDatabase;
  let producer: OutboxApp;
  beforeAll(() => ({ db, producer } = context));

  it('a handler that always throws is dead-lettered after exactly maxAttempts', async () => {
    const worker = await startWorker('poison-throw', { DATABASE_URL: db.url, POLL_MS: 50, BACKOFF_MS: 50 });
    try {
      const id = await producer.outbox.transaction((tx) => producer.outbox.enqueue(tx, 'fail', {}));
      await waitFor('dead-lettered', async () => (await db.countDeadLetters()) === 1, 30_000, 20);
      const runs = await db.query<{ attempt: number }>('SELECT "attempt" FROM "runs" WHERE "job_id" = $1::bigint ORDER BY "attempt"', id);
      const [letter] = (await producer.deadLetters.list({ type: 'fail' })).items;
      figure('poison: always throws', { maxAttempts: 3, runs: runs.length, deadLetterAttempts: letter.attempts });
      expect(runs.map((r) => r.attempt)).toEqual([1, 2, 3]);
      expect(letter).toMatchObject({ jobId: id, attempts: 3, errorMessage: 'fails on attempt 3' });
    } finally {
      await worker.kill('SIGTERM');
    }
  });

  it.each(['exit', 'uncaught'])('a handler that kills its process (%s) is retried on restart and dead-lettered when its attempts run out', async (type) => {
    await db.execute('DELETE FROM "doctor_job_dead_letter"');
    const id = await producer.outbox.transaction((tx) => producer.outbox.enqueue(tx, type as 'exit', {}));
    let deaths = 0;
    for (let restart = 0; restart < 6; restart++) {
      const worker = await startWorker(`poison-${type}-${restart}`, { DATABASE_URL: db.url, POLL_MS: 50, LEASE_MS: 500 });
      const outcome = await Promise.race([
        worker.exited.then(() => 'died' as const),
        waitFor('dead-lettered', async () => (await db.countDeadLetters()) === 1, 15_000, 20).then(() => 'dead-lettered' as const),
      ]);
      if (outcome === 'died') {
        deaths++;
        continue;
      }
      await worker.kill('SIGTERM');
      break;
    }
    const [letter] = (await producer.deadLetters.list({ type })).items;
    const runs = await db.query<{ attempt: number }>('SELECT "attempt" FROM "runs" WHERE "job_id" = $1::bigint ORDER BY "attempt"', id);
    figure(`poison: handler kills its process (${type})`, { maxAttempts: 3, processDeaths: deaths, runs: runs.length, deadLettered: Boolean(letter) });
    expect(deaths).toBe(3);
    expect(runs.map((r) => r.attempt)).toEqual([1, 2, 3]);
    expect(letter).toMatchObject({ jobId: id, maxAttempts: 3 });
    expect(letter.errorMessage).toContain("lease expired during its last allowed attempt (3)");
  });

  it(`${HERD} jobs failing at the same moment come back spread out by jitter`, async () => {
    const app = await startOutboxApp(db, [HerdJobs], { concurrency: 200, batchSize: 200, pollIntervalMs: 20 });
    try {
      await app.outbox.transaction(async (tx) => {
        await app.outbox.enqueueMany(tx, Array.from({ length: HERD }, (_, n) => ({ type: 'herd.jitter', payload: { n } })));
        await app.outbox.enqueueMany(tx, Array.from({ length: HERD }, (_, n) => ({ type: 'herd.flat', payload: { n } })));
      });
      await waitFor('every job failed once', async () => {
        const [{ n }] = await db.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM "doctor_job" WHERE "last_error" IS NOT NULL AND "attempts" = 1');
        return Number(n) === 2 * HERD;
      }, 60_000, 50);
      await app.runner.stop();
      const peak = async (type: string) => {
        const rows = await db.query<{ n: unknown }>(
          `SELECT COUNT(*) AS n FROM "doctor_job" WHERE "type" = $1 GROUP BY date_trunc('second', "run_at") ORDER BY n DESC LIMIT 1`,
          type,
        );
        return Number(rows[0].n);
      };
      const [{ first, last }] = await db.query<{ first: unknown; last: unknown }>(
        `SELECT EXTRACT(EPOCH FROM MIN("run_at") - MIN("created_at")) AS first, EXTRACT(EPOCH FROM MAX("run_at") - MIN("created_at")) AS last FROM "doctor_job" WHERE "type" = 'herd.jitter'`,
      );
      const jittered = await peak('herd.jitter');
      const flat = await peak('herd.flat');
      figure('poison: thundering herd', {
        jobs: HERD,
        backoffMs: HERD_BACKOFF_MS,
        peakRetriesPerSecondJitter50: jittered,
        peakRetriesPerSecondNoJitter: flat,
        retryWindowSeconds: `${Number(first).toFixed(1)}-${Number(last).toFixed(1)}`,
      });
      expect(jittered).toBeLessThan(HERD / 3);
      expect(flat).toBeGreaterThan(jittered);
    } finally {
      await app.close();
    }
  });
});
