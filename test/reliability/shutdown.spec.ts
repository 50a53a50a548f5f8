import { describePostgres, type TestDatabase } from '../support/databases';
import type { OutboxApp } from '../support/outbox-app';
import { sleep, waitFor } from '../support/wait';
import { figure } from './support/figures';
import { useReliabilityContext } from './support/producer';
import { startWorker } from './support/processes';

describePostgres('7. graceful shutdown of a worker process (SIGTERM)', () => {
  const context = useReliabilityContext();
  let db: TestDatabase;
  let producer: OutboxApp;
  beforeAll(() => ({ db, producer } = context));

  it('stops claiming, lets short handlers finish, aborts and releases long ones without consuming the attempt', async () => {
    // record: 300 ms; long: 20 s unless aborted. Concurrency 6: 3 long + 3 short run at once.
    const worker = await startWorker('shutdown', {
      DATABASE_URL: db.url,
      CONCURRENCY: 6,
      BATCH_SIZE: 6,
      POLL_MS: 50,
      SHUTDOWN_TIMEOUT_MS: 1_000,
      HANDLER_DELAY_MS: '300,300',
    });
    await producer.outbox.transaction(async (tx) => {
      await producer.outbox.enqueueMany(tx, [1, 2, 3].map((n) => ({ type: 'long', payload: { n } })));
    });
    await waitFor('long handlers running', async () => (await db.query('SELECT 1 FROM "runs"')).length === 3, 30_000, 10);
    await producer.outbox.transaction((tx) =>
      producer.outbox.enqueueMany(tx, Array.from({ length: 20 }, (_, n) => ({ type: 'record', payload: { n: 100 + n } }))),
    );
    await waitFor('short handlers running', async () => (await db.query('SELECT 1 FROM "runs"')).length >= 6, 30_000, 5);

    const [{ at: signalledAt }] = await db.query<{ at: Date }>('SELECT clock_timestamp() AS at');
    const started = Date.now();
    const { code, signal } = await worker.kill('SIGTERM');
    const shutdownMs = Date.now() - started;
    await sleep(200);

    const claimsAfter = await db.query('SELECT 1 FROM "runs" WHERE "started_at" > $1::timestamptz', signalledAt);
    const shortRunning = await db.query<{ n: number }>('SELECT "n" FROM "runs" WHERE "n" >= 100 AND "started_at" <= $1::timestamptz', signalledAt);
    const remainingShort = await db.query<{ n: number }>(`SELECT ("payload"->>'n')::int AS n FROM "doctor_job" WHERE "type" = 'record'`);
    const long = await db.query<{ attempts: number; token: string | null; locked: unknown }>(
      `SELECT "attempts", "claim_token"::text AS token, "locked_until" AS locked FROM "doctor_job" WHERE "type" = 'long'`,
    );
    figure('graceful shutdown', {
      shutdownMs,
      shutdownTimeoutMs: 1_000,
      claimsAfterSignal: claimsAfter.length,
      shortRunningAtSignal: shortRunning.length,
      shortFinished: shortRunning.filter((r) => !remainingShort.some((x) => x.n === r.n)).length,
      longReleased: long.filter((r) => r.token === null).length,
      longAttemptsAfter: long.map((r) => r.attempts).join(' '),
      exit: `${code ?? signal}`,
    });
    expect(claimsAfter).toHaveLength(0);
    // Every short handler running at the signal finished and its job was deleted.
    for (const run of shortRunning) expect(remainingShort.map((r) => r.n)).not.toContain(run.n);
    expect(long).toHaveLength(3);
    expect(long.every((r) => r.token === null && r.locked === null && Number(r.attempts) === 0)).toBe(true);
    expect(worker.output()).toContain('released 3 job(s) for another worker, attempt not consumed');
    expect(shutdownMs).toBeLessThan(5_000);
  });
});
