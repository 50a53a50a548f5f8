import { Injectable } from '@nestjs/common';
import { JobHandler } from 'doctor-job';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/databases';
import { startOutboxApp, type OutboxApp } from '../support/outbox-app';
import { sleep, waitFor } from '../support/wait';
import { figure } from './support/figures';
import { startWorker, type Worker } from './support/processes';
import { countRuns, createRunsTable } from './support/runs';

const JOBS = 3_000;
const ROUNDS = 4;
const LEASE_MS = 3_000;
const POLL_MS = 100;
const workerEnv = (db: TestDatabase) => ({ DATABASE_URL: db.url, CONCURRENCY: 10, BATCH_SIZE: 10, LEASE_MS, POLL_MS, HANDLER_DELAY_MS: '20,80' });

@Injectable()
class Producer {
  @JobHandler('record')
  record() {}
}

describePostgres('3. kill -9 of worker processes while handlers run', () => {
  let db: TestDatabase;
  let producer: OutboxApp;
  const workers: Worker[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('postgresql');
    await createRunsTable(db);
    producer = await startOutboxApp(db, [Producer], { autoStart: false });
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
    await producer?.close();
    await db?.dispose();
  });

  it(`${ROUNDS} rounds of SIGKILL mid-drain, then a fresh worker: 0 lost, redeliveries within the jobs in flight, recovery within lease + poll`, async () => {
    await producer.outbox.transaction((tx) =>
      producer.outbox.enqueueMany(tx, Array.from({ length: JOBS }, (_, n) => ({ type: 'record', payload: { n } }))),
    );
    const kills: { inFlight: string[]; at: Date }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const pair = await Promise.all([0, 1].map((i) => startWorker(`kill-${round}-${i}`, workerEnv(db))));
      workers.push(...pair);
      await waitFor('handlers running', async () => Number((await db.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM "doctor_job" WHERE "claim_token" IS NOT NULL'))[0].n) > 0, 30_000, 10);
      await sleep(200 + Math.random() * 800);
      await Promise.all(pair.map((w) => w.kill('SIGKILL')));
      const [{ at }] = await db.query<{ at: Date }>('SELECT clock_timestamp() AS at');
      // Every job still claimed under a live lease was held by the killed processes.
      const inFlight = (await db.query<{ id: string }>(`SELECT "id"::text AS id FROM "doctor_job" WHERE "claim_token" IS NOT NULL AND "locked_until" > now()`)).map((r) => r.id);
      kills.push({ inFlight, at });
    }
    const last = await startWorker('kill-final', workerEnv(db));
    workers.push(last);
    await waitFor('queue drained', async () => (await db.countJobs()) === 0, 120_000, 100);
    await last.kill('SIGTERM');

    const counts = await countRuns(db);
    const inFlightTotal = kills.reduce((sum, k) => sum + k.inFlight.length, 0);
    // Recovery: from each kill to the first new run of each job it left in flight.
    const recoveries: number[] = [];
    for (const kill of kills) {
      if (kill.inFlight.length === 0) continue;
      const [{ worst }] = await db.query<{ worst: unknown }>(
        `SELECT MAX(EXTRACT(EPOCH FROM (first_run - $2::timestamptz)) * 1000) AS worst FROM (
           SELECT MIN("started_at") AS first_run FROM "runs"
           WHERE "job_id" IN (SELECT jsonb_array_elements_text($1::jsonb)::bigint) AND "started_at" > $2::timestamptz
           GROUP BY "job_id") AS t`,
        JSON.stringify(kill.inFlight),
        kill.at,
      );
      recoveries.push(Math.round(Number(worst)));
    }
    figure('kill -9', {
      jobs: JOBS,
      rounds: ROUNDS,
      inFlightAtKills: kills.map((k) => k.inFlight.length).join('+'),
      lost: JOBS - counts.distinctNumbers,
      redeliveries: counts.duplicates,
      recoveryMs: recoveries.join(' '),
      leasePlusPollMs: LEASE_MS + POLL_MS,
    });
    expect(counts.distinctNumbers).toBe(JOBS);
    expect(counts.duplicates).toBeLessThanOrEqual(inFlightTotal);
    expect(inFlightTotal).toBeGreaterThan(0);
    // Lease + poll, plus room for the claim itself and a loaded machine (the figure is reported).
    for (const recovery of recoveries) expect(recovery).toBeLessThanOrEqual(LEASE_MS + POLL_MS + 2_000);
    expect(await db.countDeadLetters()).toBe(0);
  });
});
