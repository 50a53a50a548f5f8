import { describePostgres, type TestDatabase } from '../support/databases';
import type { OutboxApp } from '../support/outbox-app';
import { sleep, waitFor } from '../support/wait';
import { figure } from './support/figures';
import { useReliabilityContext } from './support/producer';
import { startWorker } from './support/processes';
import { countRuns } from './support/runs';

const JOBS = 3_000;
const ROUNDS = 4;
const LEASE_MS = 3_000;
const POLL_MS = 100;
const workerEnv = (db: TestDatabase) => ({ DATABASE_URL: db.url, CONCURRENCY: 10, BATCH_SIZE: 10, LEASE_MS, POLL_MS, HANDLER_DELAY_MS: '20,80' });

describePostgres('3. kill -9 of worker processes while handlers run', () => {
  const context = useReliabilityContext();
  const { workers } = context;
  let db: TestDatabase;
  let producer: OutboxApp;
  beforeAll(() => ({ db, producer } = context));

  it(`${ROUNDS} rounds of SIGKILL mid-drain, then a fresh worker: 0 lost, redeliveries within the jobs in flight, recovery within lease + poll`, async () => {
    await producer.outbox.transaction((tx) =>
      producer.outbox.enqueueMany(tx, Array.from({ length: JOBS }, (_, n) => ({ type: 'record', payload: { n } }))),
    );
    const kills: { inFlight: string[]; at: Date; dueAfterMs: number }[] = [];
    // Start-up of each worker process, spawn to ready: while the next workers start, nobody can
    // claim a dead worker's jobs, so it bounds the recovery below along with the lease.
    const startups: number[] = [];
    const timedStart = async (name: string) => {
      const spawnedAt = Date.now();
      const worker = await startWorker(name, workerEnv(db));
      startups.push(Date.now() - spawnedAt);
      return worker;
    };
    for (let round = 0; round < ROUNDS; round++) {
      const pair = await Promise.all([0, 1].map((i) => timedStart(`kill-${round}-${i}`)));
      workers.push(...pair);
      await waitFor('handlers running', async () => Number((await db.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM "doctor_job" WHERE "claim_token" IS NOT NULL'))[0].n) > 0, 30_000, 10);
      await sleep(200 + Math.random() * 800);
      await Promise.all(pair.map((w) => w.kill('SIGKILL')));
      const [{ at }] = await db.query<{ at: Date }>('SELECT clock_timestamp() AS at');
      // Every job still claimed under a live lease was held by the killed processes.
      const held = await db.query<{ id: string; due: unknown }>(
        `SELECT "id"::text AS id, EXTRACT(EPOCH FROM ("locked_until" - $1::timestamptz)) * 1000 AS due
         FROM "doctor_job" WHERE "claim_token" IS NOT NULL AND "locked_until" > $1::timestamptz`,
        at,
      );
      // When the last of them becomes claimable again: its lease, as last extended by the heartbeat.
      const dueAfterMs = Math.round(Math.max(0, ...held.map((r) => Number(r.due))));
      kills.push({ inFlight: held.map((r) => r.id), at, dueAfterMs });
    }
    const last = await timedStart('kill-final');
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
      claimableAgainAfterMs: kills.map((k) => k.dueAfterMs).join(' '),
      recoveryMs: recoveries.join(' '),
      leasePlusPollMs: LEASE_MS + POLL_MS,
      workerStartupMs: `${Math.min(...startups)}-${Math.max(...startups)}`,
    });
    expect(counts.distinctNumbers).toBe(JOBS);
    expect(counts.duplicates).toBeLessThanOrEqual(inFlightTotal);
    expect(inFlightTotal).toBeGreaterThan(0);
    // A dead worker's jobs are claimable again within the lease. The first re-run also waits for
    // the next poll and a free slot (1 s of room), and, when the lease ends while the next workers
    // are still starting (the rounds kill them within a second or two of their start), for their
    // start-up: the slowest measured here.
    for (const kill of kills) expect(kill.dueAfterMs).toBeLessThanOrEqual(LEASE_MS);
    const bound = LEASE_MS + POLL_MS + Math.max(...startups) + 1_000;
    for (const recovery of recoveries) expect(recovery).toBeLessThanOrEqual(bound);
    expect(await db.countDeadLetters()).toBe(0);
  });
});
