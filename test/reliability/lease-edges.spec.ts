import { randomUUID } from 'node:crypto';
import { createJobStore } from '../../lib/store/create-job-store';
import { describePostgres, type TestDatabase } from '../support/databases';
import type { OutboxApp } from '../support/outbox-app';
import { sleep, waitFor } from '../support/wait';
import { figure } from './support/figures';
import { useReliabilityContext } from './support/producer';
import { startWorker } from './support/processes';
import { countRuns } from './support/runs';

describePostgres('4. lease edges and clock skew', () => {
  const context = useReliabilityContext();
  let db: TestDatabase;
  let producer: OutboxApp;
  beforeAll(() => ({ db, producer } = context));
  beforeEach(() => db.execute('DELETE FROM "doctor_job"'));

  it('claims exactly the jobs whose lease ended before the database’s now()', async () => {
    const store = createJobStore('postgresql', db.prisma, { notify: false, runnerPool: false });
    const offsets = [-1_000, -100, -10, 400, 1_500];
    const ids = await producer.outbox.transaction((tx) =>
      producer.outbox.enqueueMany(tx, offsets.map((ms) => ({ type: 'record', payload: { n: ms } }))),
    );
    for (const [i, ms] of offsets.entries()) {
      await db.execute(
        `UPDATE "doctor_job" SET "locked_until" = clock_timestamp() + $2::int * interval '1 millisecond', "claim_token" = gen_random_uuid(), "attempts" = 1 WHERE "id" = $1::bigint`,
        ids[i],
        ms,
      );
    }
    const first = (await store.claim({ limit: 10, leaseMs: 60_000, token: randomUUID() })).map((j) => j.id);
    await sleep(600);
    const second = (await store.claim({ limit: 10, leaseMs: 60_000, token: randomUUID() })).map((j) => j.id);
    figure('lease edges', {
      leaseEndsMs: offsets.join(' '),
      claimedAtOnce: first.length,
      claimedAfter600ms: second.length,
    });
    expect(first).toEqual(ids.slice(0, 3));
    expect(second).toEqual([ids[3]]);
  });

  it.each([5 * 60_000, -5 * 60_000])('a worker whose Node clock is %i ms off behaves the same', async (offset) => {
    await db.execute('DELETE FROM "runs"');
    const worker = await startWorker(`skew${offset}`, {
      DATABASE_URL: db.url,
      CLOCK_OFFSET_MS: offset,
      LEASE_MS: 1_000,
      POLL_MS: 50,
      HANDLER_DELAY_MS: '1500,1500',
    });
    try {
      const enqueuedAt = (await db.query<{ at: Date }>('SELECT now() AS at'))[0].at;
      await producer.outbox.transaction(async (tx) => {
        await producer.outbox.enqueue(tx, 'record', { n: 1 });
        await producer.outbox.enqueue(tx, 'record', { n: 2 }, { delayMs: 3_000 });
      });
      await waitFor('both ran and settled', async () => (await db.countJobs()) === 0, 30_000, 50);
      const runs = await db.query<{ n: number; ms: unknown }>(
        'SELECT "n", EXTRACT(EPOCH FROM ("started_at" - $1::timestamptz)) * 1000 AS ms FROM "runs" ORDER BY "n"',
        enqueuedAt,
      );
      const counts = await countRuns(db);
      const [now, delayed] = runs.map((r) => Math.round(Number(r.ms)));
      figure('clock skew', { nodeClockOffsetMs: offset, immediateJobStartMs: now, delayedJobStartMs: delayed, delayMs: 3_000, duplicates: counts.duplicates });
      expect(counts.duplicates).toBe(0); // the heartbeat kept the 1 s lease of the 1.5 s handler alive
      expect(runs.map((r) => r.n)).toEqual([1, 2]);
      expect(now).toBeLessThan(1_000);
      expect(delayed).toBeGreaterThanOrEqual(3_000);
      expect(delayed).toBeLessThan(4_500);
    } finally {
      await worker.kill('SIGTERM');
    }
  });
});
