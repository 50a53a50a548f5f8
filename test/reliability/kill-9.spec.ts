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

  it(`${ROUNDS} rounds of SIGKILL mid-drain, then a fresh worker: 0 lost, redeliveries within the jobs in flight, every held job re-run after its lease, none before`, async () => {
    await producer.outbox.transaction((tx) =>
      producer.outbox.enqueueMany(tx, Array.from({ length: JOBS }, (_, n) => ({ type: 'record', payload: { n } }))),
    );
    const kills: { inFlight: string[]; leaseEnds: string[]; at: Date; dueAfterMs: number }[] = [];
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
      const held = await db.query<{ id: string; due: unknown; lease_end: Date }>(
        `SELECT "id"::text AS id, EXTRACT(EPOCH FROM ("locked_until" - $1::timestamptz)) * 1000 AS due, "locked_until" AS lease_end
         FROM "doctor_job" WHERE "claim_token" IS NOT NULL AND "locked_until" > $1::timestamptz`,
        at,
      );
      // When the last of them becomes claimable again: its lease, as last extended by the heartbeat.
      const dueAfterMs = Math.round(Math.max(0, ...held.map((r) => Number(r.due))));
      kills.push({ inFlight: held.map((r) => r.id), leaseEnds: held.map((r) => r.lease_end.toISOString()), at, dueAfterMs });
    }
    const last = await timedStart('kill-final');
    workers.push(last);
    await waitFor('queue drained', async () => (await db.countJobs()) === 0, 120_000, 100);
    await last.kill('SIGTERM');

    const counts = await countRuns(db);
    const inFlightTotal = kills.reduce((sum, k) => sum + k.inFlight.length, 0);
    // Recovery: from each kill to the first new run of each job it left in flight (all times from
    // the database's clock); how many of those jobs ran again, and how many ran again before the
    // lease the killed worker held had ended (a second holder while the first could still run).
    const recoveries: number[] = [];
    const rerun: number[] = [];
    const rerunBeforeLeaseEnd: number[] = [];
    for (const kill of kills) {
      if (kill.inFlight.length === 0) continue;
      const [row] = await db.query<{ worst: unknown; jobs: unknown; early: unknown }>(
        `SELECT MAX(EXTRACT(EPOCH FROM (first_run - $2::timestamptz)) * 1000) AS worst, COUNT(*) AS jobs,
                COUNT(*) FILTER (WHERE first_run < lease_end) AS early
         FROM (
           SELECT r."job_id", MIN(r."started_at") AS first_run, h.lease_end
           FROM "runs" AS r
           JOIN (SELECT (e->>'id')::bigint AS id, (e->>'leaseEnd')::timestamptz AS lease_end FROM jsonb_array_elements($1::jsonb) AS e) AS h
             ON h.id = r."job_id"
           WHERE r."started_at" > $2::timestamptz
           GROUP BY r."job_id", h.lease_end) AS t`,
        JSON.stringify(kill.inFlight.map((id, i) => ({ id, leaseEnd: kill.leaseEnds[i] }))),
        kill.at,
      );
      recoveries.push(Math.round(Number(row.worst)));
      rerun.push(Number(row.jobs));
      rerunBeforeLeaseEnd.push(Number(row.early));
    }
    figure('kill -9', {
      jobs: JOBS,
      rounds: ROUNDS,
      inFlightAtKills: kills.map((k) => k.inFlight.length).join('+'),
      lost: JOBS - counts.distinctNumbers,
      rerunOfInFlight: rerun.join('+'),
      rerunBeforeLeaseEnd: rerunBeforeLeaseEnd.join('+'),
      redeliveries: counts.duplicates,
      claimableAgainAfterMs: kills.map((k) => k.dueAfterMs).join(' '),
      recoveryMs: recoveries.join(' '),
      leasePlusPollMs: LEASE_MS + POLL_MS,
      workerStartupMs: `${Math.min(...startups)}-${Math.max(...startups)}`,
    });
    expect(counts.distinctNumbers).toBe(JOBS);
    expect(counts.duplicates).toBeLessThanOrEqual(inFlightTotal);
    expect(inFlightTotal).toBeGreaterThan(0);
    // A dead worker's jobs are claimable again within the lease (the database's own lease times),
    // every one of them ran again, and none before the lease it was under had ended.
    for (const kill of kills) expect(kill.dueAfterMs).toBeLessThanOrEqual(LEASE_MS);
    expect(rerun).toEqual(kills.filter((k) => k.inFlight.length > 0).map((k) => k.inFlight.length));
    expect(rerunBeforeLeaseEnd.every((n) => n === 0)).toBe(true);
    // How long the first re-run took after the lease is printed above (recoveryMs): it also waits
    // for the next poll, a free slot and, when the lease ends while the next round's workers are
    // still starting, their start-up, all of which stretch on a loaded machine (a fresh-clone CI
    // run measured 6.6 s against a tight lease + poll + start-up + 1 s of 5.5 s). The bound here is
    // generous on purpose: it fails only when a dead worker's jobs wait for something other than
    // their lease (for instance only the final worker's drain picks them up).
    for (const recovery of recoveries) expect(recovery).toBeLessThanOrEqual(LEASE_MS * 5 + Math.max(...startups) * 2);
    expect(await db.countDeadLetters()).toBe(0);
  });
});
