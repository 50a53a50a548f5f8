import { describePostgres, type TestDatabase } from '../support/databases';
import type { OutboxApp } from '../support/outbox-app';
import { sleep, waitFor } from '../support/wait';
import { figure } from './support/figures';
import { useReliabilityContext } from './support/producer';
import { startWorker } from './support/processes';

const LEASE_MS = 1_000;

describePostgres('5. fencing: a worker whose lease expired cannot touch the job another worker holds', () => {
  const context = useReliabilityContext();
  const { workers } = context;
  let db: TestDatabase;
  let producer: OutboxApp;
  beforeAll(() => ({ db, producer } = context));

  const row = async () =>
    (await db.query<{ attempts: unknown; token: string | null }>('SELECT "attempts", "claim_token"::text AS token FROM "doctor_job"'))[0];

  it('A is frozen (SIGSTOP) past its lease, B claims the job, A wakes and finishes first: A writes nothing, B’s result stands', async () => {
    const env = { DATABASE_URL: db.url, CONCURRENCY: 1, BATCH_SIZE: 1, LEASE_MS, POLL_MS: 50, HANDLER_DELAY_MS: '2500,2500' };
    const a = await startWorker('fence-A', env);
    workers.push(a);
    await producer.outbox.transaction((tx) => producer.outbox.enqueue(tx, 'record', { n: 1 }));
    await waitFor('A runs the job', async () => (await db.query('SELECT 1 FROM "runs" WHERE "worker" = $1', 'fence-A')).length === 1, 30_000, 10);
    const tokenA = (await row()).token;
    a.child.kill('SIGSTOP'); // A can neither finish nor extend its lease

    const b = await startWorker('fence-B', env);
    workers.push(b);
    await waitFor('B claims and runs the job', async () => (await db.query('SELECT 1 FROM "runs" WHERE "worker" = $1', 'fence-B')).length === 1, 30_000, 10);
    const held = await row();
    expect(held.token).not.toBe(tokenA);
    expect(Number(held.attempts)).toBe(2);

    a.child.kill('SIGCONT'); // A's handler timer is overdue: it finishes at once, while B still runs
    await waitFor('A noticed', () => /claim no longer holds|another worker holds it now/.test(a.output()), 10_000, 20);
    await sleep(200);
    const afterA = await row();
    expect(afterA).toEqual(held); // A neither deleted, retried nor dead-lettered B's job
    expect(await db.countDeadLetters()).toBe(0);

    await waitFor('B completes the job', async () => (await db.countJobs()) === 0, 15_000, 20);
    const runs = await db.query<{ worker: string; attempt: number }>('SELECT "worker", "attempt" FROM "runs" ORDER BY "started_at"');
    figure('fencing', {
      runs: runs.map((r) => `${r.worker}#${r.attempt}`).join(' '),
      staleWrites: afterA.token === held.token && Number(afterA.attempts) === Number(held.attempts) ? 0 : 1,
      leaseMs: LEASE_MS,
    });
    expect(runs).toEqual([
      { worker: 'fence-A', attempt: 1 },
      { worker: 'fence-B', attempt: 2 },
    ]);
    expect(await db.countDeadLetters()).toBe(0);
  });
});
