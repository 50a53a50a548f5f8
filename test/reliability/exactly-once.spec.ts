import { describePostgres, type TestDatabase } from '../support/databases';
import type { OutboxApp } from '../support/outbox-app';
import { sleep, waitFor } from '../support/wait';
import { figure } from './support/figures';
import { useReliabilityContext } from './support/producer';
import { startWorker, type Worker } from './support/processes';

const ROUNDS = 3;
// Each round enqueues its own jobs, so every round's fault finds handlers running: three workers drain
// about as many jobs in a round as a round enqueues, and one batch for all rounds up front left the
// third round an empty queue on a quick machine (it waited 30 s for an in-flight job and failed).
const PER_ROUND = 300; // of each kind
const JOBS = ROUNDS * PER_ROUND; // of each kind
const LEASE_MS = 2_000;
const workerEnv = (db: TestDatabase) => ({ DATABASE_URL: db.url, CONCURRENCY: 10, BATCH_SIZE: 10, LEASE_MS, POLL_MS: 100, HANDLER_DELAY_MS: '20,120' });

interface Counts {
  rows: number;
  distinct: number;
}

describePostgres('10. transactional handlers under SIGKILL and SIGSTOP: exactly-once database effects', () => {
  const context = useReliabilityContext();
  const { workers } = context;
  let db: TestDatabase;
  let producer: OutboxApp;
  beforeAll(async () => {
    ({ db, producer } = context);
    await db.execute('CREATE TABLE "business" ("n" INT NOT NULL, "job_id" BIGINT NOT NULL, "worker" TEXT NOT NULL, "kind" TEXT NOT NULL)');
  });

  const count = async (kind: string): Promise<Counts> => {
    const [row] = await db.query<{ rows: unknown; distinct: unknown }>('SELECT COUNT(*) AS rows, COUNT(DISTINCT "n") AS distinct FROM "business" WHERE "kind" = $1', kind);
    return { rows: Number(row.rows), distinct: Number(row.distinct) };
  };
  const inFlight = async () => Number((await db.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM "doctor_job" WHERE "claim_token" IS NOT NULL AND "locked_until" > now()'))[0].n);

  it(`${ROUNDS} rounds of one worker frozen past its lease and one killed: 0 duplicate and 0 missing business rows with transaction: true; the plain handlers of the same run duplicate`, async () => {
    const faults: { frozenInFlight: number; killedInFlight: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Both kinds interleaved, so every fault hits both.
      await producer.outbox.transaction((tx) =>
        producer.outbox.enqueueMany(
          tx,
          Array.from({ length: 2 * PER_ROUND }, (_, i) => ({ type: i % 2 ? 'business-tx' : 'business-plain', payload: { n: round * PER_ROUND + (i >> 1) } })),
        ),
      );
      const [frozen, killed]: Worker[] = await Promise.all([startWorker(`freeze-${round}`, workerEnv(db)), startWorker(`kill-${round}`, workerEnv(db))]);
      workers.push(frozen, killed);
      await waitFor('handlers running', async () => (await inFlight()) > 0, 30_000, 10);
      await sleep(150 + Math.random() * 400);
      const before = await inFlight();
      frozen.child.kill('SIGSTOP'); // its handlers stop mid-run, transactions open, leases running out
      await sleep(200 + Math.random() * 300);
      const during = await inFlight();
      await killed.kill('SIGKILL');
      const rescuer = await startWorker(`rescue-${round}`, workerEnv(db));
      workers.push(rescuer);
      await sleep(LEASE_MS * 2); // past the frozen worker's leases: the rescuer runs its jobs again
      frozen.child.kill('SIGCONT'); // it wakes and finishes what it was running
      await sleep(500);
      faults.push({ frozenInFlight: before, killedInFlight: during });
      await Promise.all([frozen.kill('SIGTERM'), rescuer.kill('SIGTERM')]);
    }
    const last = await startWorker('final', workerEnv(db));
    workers.push(last);
    await waitFor('queue drained', async () => (await db.countJobs()) === 0, 120_000, 100);
    await last.kill('SIGTERM');

    const plain = await count('plain');
    const tx = await count('tx');
    figure('exactly-once', {
      jobsPerKind: JOBS,
      rounds: ROUNDS,
      inFlightAtFreeze: faults.map((f) => f.frozenInFlight).join('+'),
      inFlightAtKill: faults.map((f) => f.killedInFlight).join('+'),
      plainRows: plain.rows,
      plainMissing: JOBS - plain.distinct,
      plainDuplicates: plain.rows - plain.distinct,
      txRows: tx.rows,
      txMissing: JOBS - tx.distinct,
      txDuplicates: tx.rows - tx.distinct,
    });
    expect(faults.reduce((sum, f) => sum + f.frozenInFlight + f.killedInFlight, 0)).toBeGreaterThan(0);
    expect({ missing: JOBS - tx.distinct, duplicates: tx.rows - tx.distinct }).toEqual({ missing: 0, duplicates: 0 });
    expect(JOBS - plain.distinct).toBe(0); // at-least-once: nothing lost either way
    expect(plain.rows - plain.distinct).toBeGreaterThan(0); // but the plain handlers ran some jobs twice
    expect(await db.countDeadLetters()).toBe(0);
  });
});
