import { Client } from 'pg';
import { createPrismaClient, type PrismaService } from '../../sample/database/prisma.service';
import { postgresUp } from '../support/databases';
import { sleep, waitFor } from '../support/wait';
import { figure } from './support/figures';
import { PrivatePostgres } from './support/private-postgres';
import { startWorker, type Worker } from './support/processes';

const JOBS = 3_000;
// Needs root (it runs a private cluster as the postgres user). Off CI it is skipped without root;
// under CI it always runs, and fails if it cannot start the cluster.
const run = postgresUp() && (process.getuid?.() === 0 || process.env.CI === 'true') ? describe : describe.skip;

run('6. database outage under load (a private PostgreSQL cluster)', () => {
  const cluster = new PrivatePostgres();
  let url: string;
  let prisma: PrismaService;
  let worker: Worker | undefined;

  beforeAll(async () => {
    await cluster.start();
    url = await cluster.createDatabase('outage');
    prisma = await createPrismaClient(url);
    await prisma.$executeRawUnsafe(
      `CREATE TABLE "runs" ("job_id" BIGINT NOT NULL, "n" INT, "worker" TEXT NOT NULL, "attempt" INT NOT NULL, "started_at" TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())`,
    );
  });
  afterAll(async () => {
    await worker?.kill('SIGKILL');
    await prisma?.$disconnect();
    cluster.stop();
  });

  const count = async (sql: string) => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      return Number((await client.query(sql)).rows[0].n);
    } finally {
      await client.end();
    }
  };

  it('survives its connections being terminated and the server restarting mid-drain, logs each outage once, loses nothing', async () => {
    const rows = Array.from({ length: JOBS }, (_, n) => `('record', '{"n":${n}}', 20)`).join(',');
    await prisma.$executeRawUnsafe(`INSERT INTO "doctor_job" ("type", "payload", "max_attempts") VALUES ${rows}`);
    worker = await startWorker('outage', { DATABASE_URL: url, CONCURRENCY: 5, BATCH_SIZE: 5, POLL_MS: 100, LEASE_MS: 2_000, HANDLER_DELAY_MS: '5,15' });

    await waitFor('a third drained', async () => (await count('SELECT COUNT(*) AS n FROM "doctor_job"')) < JOBS * 0.66, 60_000, 50);
    const admin = new Client({ connectionString: url });
    await admin.connect();
    const terminated = (await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'dj-outage'`)).rowCount;
    await admin.end();

    await waitFor('two thirds drained', async () => (await count('SELECT COUNT(*) AS n FROM "doctor_job"')) < JOBS * 0.33, 60_000, 50);
    const restartStarted = Date.now();
    cluster.restart();
    const restartMs = Date.now() - restartStarted;

    await waitFor('queue drained after the restart', async () => (await count('SELECT COUNT(*) AS n FROM "doctor_job"')) === 0, 120_000, 200);
    await sleep(300);
    const output = worker.output();
    const outageLines = output.split('\n').filter((line) => line.includes('[OutboxRunner] Could not'));
    const recoveredLines = output.split('\n').filter((line) => line.includes('The database answers again'));
    const handled = await count('SELECT COUNT(DISTINCT "n") AS n FROM "runs"');
    const deadLetters = await count('SELECT COUNT(*) AS n FROM "doctor_job_dead_letter"');
    const alive = worker.child.exitCode === null && worker.child.signalCode === null;

    figure('database outage', {
      jobs: JOBS,
      connectionsTerminated: terminated ?? 0,
      restartMs,
      outageLogLines: outageLines.length,
      recoveryLogLines: recoveredLines.length,
      handled,
      lost: JOBS - handled,
      deadLetters,
      processAlive: alive,
    });
    expect(alive).toBe(true);
    expect(output).not.toMatch(/Unhandled|unhandledRejection|uncaughtException/i);
    expect(handled).toBe(JOBS);
    expect(deadLetters).toBe(0);
    // Once per outage, not once per poll: two outages (the cut connections may go unnoticed by the pool).
    expect(outageLines.length).toBeGreaterThanOrEqual(1);
    expect(outageLines.length).toBeLessThanOrEqual(2);
    expect(recoveredLines.length).toBe(outageLines.length);
  });
});
